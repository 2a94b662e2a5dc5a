"""The DMARC policy a domain publishes (RFC 7489 6.6.3): its own `_dmarc` record, else its organisational
domain's (found with the public suffix list shipped in `publicsuffixlist`, no network), read for p=/sp=.

A lookup that DNS cannot answer is None, "unknown": callers neither munge
nor hold on an unknown policy, so a DNS outage changes nothing a member sees.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from publicsuffixlist import PublicSuffixList

if TYPE_CHECKING:
    # Only a type here: the daemon imports this module through the pipeline package and outgoing mail but never
    # looks names up, and dnspython costs a process 11 MB resident (bench/README.md, memory).
    from listserv.resolver import Resolver

POLICIES = ("none", "quarantine", "reject")
ENFORCED = ("quarantine", "reject")  # the policies under which receivers refuse or spam-folder failing mail


@dataclass(frozen=True)
class Policy:
    """What a domain asks receivers to do with mail that fails DMARC; published False when it asks nothing."""

    published: bool  # a DMARC record applies to the domain
    policy: str = "none"  # p= (or sp= of the organisational domain's record for a subdomain)
    record_domain: str = ""  # where the record was found
    adkim: str = "r"  # DKIM alignment: r(elaxed) or s(trict)
    aspf: str = "r"  # SPF alignment: r(elaxed) or s(trict)

    @property
    def enforced(self) -> bool:
        """True for p=quarantine and p=reject: failing mail is refused or spam-foldered."""
        return self.published and self.policy in ENFORCED


NOT_PUBLISHED = Policy(False)


@functools.lru_cache(maxsize=1)
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # the list shipped with the package: reading it takes a moment, once


def organisational_domain(domain: str) -> str:
    """The registered domain a name belongs to (RFC 7489 3.2).

    >>> organisational_domain("mail.Agency.gov.uk"), organisational_domain("example.com")
    ('agency.gov.uk', 'example.com')
    >>> organisational_domain("co.uk")
    'co.uk'
    """
    name = domain.lower().rstrip(".")
    return _suffixes().privatesuffix(name) or name


def parse(record: str) -> dict[str, str]:
    """The tags of a DMARC record, names lowercased.

    >>> parse("v=DMARC1; p=Reject; sp=none ;rua=mailto:d@example.com")["p"]
    'reject'
    """
    tags = {}
    for part in record.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            tags[name.strip().lower()] = value.strip().lower() if name.strip().lower() != "rua" else value.strip()
    return tags


def from_record(record: str, record_domain: str, subdomain: bool) -> Policy:
    """A Policy from one record; sp= applies to subdomains; an unknown p= reads as none (RFC 7489 6.6.3).

    >>> from_record("v=DMARC1; p=reject; sp=quarantine", "example.com", True).policy
    'quarantine'
    >>> from_record("v=DMARC1; p=bogus", "example.com", False).policy
    'none'
    """
    tags = parse(record)
    requested = tags.get("p", "")
    if subdomain and tags.get("sp") in POLICIES:
        requested = tags["sp"]
    return Policy(
        True, requested if requested in POLICIES else "none", record_domain,
        "s" if tags.get("adkim") == "s" else "r", "s" if tags.get("aspf") == "s" else "r",
    )


def _only_record(records: tuple) -> str | None:
    """The one DMARC record among TXT records; none, or several (RFC 7489 6.6.3), is no record."""
    found = [text for text in records if text.replace(" ", "").lower().startswith("v=dmarc1")]
    return found[0] if len(found) == 1 else None


async def lookup(resolver: Resolver, domain: str) -> Policy | None:
    """The policy that applies to mail From: domain; NOT_PUBLISHED when none; None when DNS cannot say."""
    domain = domain.lower().rstrip(".")
    if not domain:
        return NOT_PUBLISHED
    records = await resolver.txt(f"_dmarc.{domain}")
    if records is None:
        return None
    record = _only_record(records)
    if record is not None:
        return from_record(record, domain, subdomain=False)
    organisation = organisational_domain(domain)
    if organisation == domain:
        return NOT_PUBLISHED
    records = await resolver.txt(f"_dmarc.{organisation}")
    if records is None:
        return None
    record = _only_record(records)
    return NOT_PUBLISHED if record is None else from_record(record, organisation, subdomain=True)
