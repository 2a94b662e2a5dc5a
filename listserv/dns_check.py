"""`listserv dns check DOMAIN`: what a list domain publishes in DNS, and what to publish so big providers accept it.

One Check per record: MX (mail for the list reaches this server), SPF (one
record; with --ip, that it lets the sending host send), DKIM (with --selector,
the key record is there; with --key, it is the public half of that private
key), DMARC (a record is published) and, with --ip, PTR (the sending host's
address names a host that points back to it, which Gmail and Microsoft ask
for). Each says what to fix. DNS that cannot answer is "unknown": the check
cannot vouch for the record, so it counts as something to look at.
"""

from __future__ import annotations

import base64
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import dkim.crypto

from listserv.auth import dmarc
from listserv.resolver import Resolver

OK, FIX, UNKNOWN, SKIPPED = "ok", "fix", "unknown", "skipped"
NO_ANSWER = "DNS gave no answer: check [dns] nameservers and try again"


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, how it went, and what to do."""

    name: str
    status: str  # ok, fix, unknown or skipped
    text: str

    @property
    def must_fix(self) -> bool:
        return self.status in (FIX, UNKNOWN)


async def check(
    resolver: Resolver, domain: str, selector: str = "", key: Path | None = None, ip: str = ""
) -> list[Check]:
    """Every check for domain, in the order they are printed."""
    domain = domain.lower().rstrip(".")
    return [
        await mx(resolver, domain), await spf(resolver, domain, ip), await dkim_key(resolver, domain, selector, key),
        await dmarc_record(resolver, domain), await ptr(resolver, ip),
    ]


async def mx(resolver: Resolver, domain: str) -> Check:
    records = await resolver.lookup(domain, "MX")
    if records is None:
        return Check("MX", UNKNOWN, NO_ANSWER)
    if not records:
        return Check("MX", FIX, f"no MX record: publish `{domain}. MX 10 <your mail host>.` so mail to the lists"
                                f" of {domain} reaches this server")
    return Check("MX", OK, ", ".join(sorted(records)))


async def spf(resolver: Resolver, domain: str, ip: str) -> Check:
    records = await resolver.txt(domain)
    if records is None:
        return Check("SPF", UNKNOWN, NO_ANSWER)
    found = [text for text in records if text.lower().split(" ")[0] == "v=spf1"]
    allow = f"ip{ipaddress.ip_address(ip).version}:{ip}" if ip else "ip4:<sending address>"
    if not found:
        return Check("SPF", FIX, f'no SPF record: publish `{domain}. TXT "v=spf1 mx {allow} -all"`')
    if len(found) > 1:
        return Check("SPF", FIX, f"{len(found)} SPF records: receivers treat that as none; merge them into one")
    if ip and not allows(found[0], ip):
        return Check("SPF", FIX, f"{found[0]!r} does not name {ip}: add {allow} before its 'all'")
    return Check("SPF", OK, found[0])


def allows(record: str, ip: str) -> bool:
    """True when an SPF record names ip in an ip4:/ip6: mechanism, or defers to a/mx/include (not followed here).

    >>> allows("v=spf1 ip4:192.0.2.0/24 -all", "192.0.2.7"), allows("v=spf1 -all", "192.0.2.7")
    (True, False)
    >>> allows("v=spf1 include:_spf.example.net -all", "192.0.2.7")
    True
    """
    address = ipaddress.ip_address(ip)
    for term in record.split()[1:]:
        mechanism, _, value = term.lstrip("+").partition(":")
        if mechanism.lower() in ("a", "mx", "include") or mechanism.lower().startswith(("a/", "mx/")):
            return True
        if mechanism.lower() in ("ip4", "ip6"):
            try:
                if address in ipaddress.ip_network(value, strict=False):
                    return True
            except ValueError:
                continue
    return False


async def dkim_key(resolver: Resolver, domain: str, selector: str, key: Path | None) -> Check:
    if not selector:
        return Check("DKIM", SKIPPED, "no key under the data directory and no --selector given: the key record"
                                      " cannot be looked up (run `listserv dkim keygen DOMAIN`)")
    name = f"{selector}._domainkey.{domain}"
    records = await resolver.txt(name)
    if records is None:
        return Check("DKIM", UNKNOWN, NO_ANSWER)
    found = [text for text in records if "p=" in text]
    if not found:
        return Check("DKIM", FIX, f"no key record at {name}: publish the TXT record `listserv dkim keygen` printed")
    if key is not None and not _same_key(found[0], key):
        return Check("DKIM", FIX, f"the record at {name} is not the public half of {key}: publish the new record")
    return Check("DKIM", OK, f"key record at {name}" + (f" matches {key}" if key is not None else ""))


def _same_key(record: str, key: Path) -> bool:
    """The record's p= is the public key of the private key file (RSA: the same modulus)."""
    tags = {name.strip().lower(): value.strip() for name, _, value in (t.partition("=") for t in record.split(";"))}
    try:
        public = dkim.crypto.parse_public_key(base64.b64decode("".join(tags.get("p", "").split())))
        private = dkim.crypto.parse_pem_private_key(key.read_bytes())
    except (OSError, ValueError, dkim.crypto.UnparsableKeyError):
        return False
    return public["modulus"] == private["modulus"]


async def dmarc_record(resolver: Resolver, domain: str) -> Check:
    found = await dmarc.lookup(resolver, domain)
    if found is None:
        return Check("DMARC", UNKNOWN, NO_ANSWER)
    if not found.published:
        return Check("DMARC", FIX, f'no DMARC record: publish `_dmarc.{domain}. TXT "v=DMARC1; p=none;'
                                   f' rua=mailto:postmaster@{domain}"`, then tighten p= once reports look clean')
    return Check("DMARC", OK, f"p={found.policy} (record at _dmarc.{found.record_domain})")


async def ptr(resolver: Resolver, ip: str) -> Check:
    if not ip:
        return Check("PTR", SKIPPED, "no --ip given: the sending host's address is not known here")
    names = await resolver.ptr(ip)
    if names is None:
        return Check("PTR", UNKNOWN, NO_ANSWER)
    if not names:
        return Check("PTR", FIX, f"{ip} has no PTR record: ask its provider to name it (e.g. lists.<domain>)")
    kind = "A" if ipaddress.ip_address(ip).version == 4 else "AAAA"
    for name in names:
        forward = await resolver.lookup(name, kind)
        if forward and ip in forward:
            return Check("PTR", OK, f"{ip} is {name}, which points back to it")
    return Check("PTR", FIX, f"{ip} is {names[0]}, which has no {kind} record {ip}: publish it")
