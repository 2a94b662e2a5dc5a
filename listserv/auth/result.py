"""The authentication result of one inbound message: what the rules, decorate, the archive and `held show` read."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from listserv.auth.dmarc import Policy

# dmarc= values: pass; fail; none (the domain publishes no DMARC); unknown (DNS could not say).
PASS, FAIL, NONE, UNKNOWN = "pass", "fail", "none", "unknown"
AAR_DMARC = {UNKNOWN: "temperror"}  # RFC 7489 11.2 has no "unknown": DNS that could not say is a temporary error


@dataclass(frozen=True)
class AuthResult:
    """Who vouches for the From: domain of a message, and what that domain asks of receivers."""

    author_domain: str = ""  # the domain of the From: address, '' when there is none
    policy: Policy | None = None  # the DMARC policy for author_domain; None: unknown
    dkim: str = NONE  # pass (a valid signature aligned with From:), fail, temperror (key unknown), none (unsigned)
    dkim_domains: tuple[str, ...] = ()  # d= of every valid signature, aligned or not
    spf: str = NONE  # from a trusted Authentication-Results header, else checked on the connecting IP (auth.spf)
    spf_domain: str = ""  # the envelope domain that SPF result is for
    dmarc: str = NONE  # pass, fail, none, unknown (see above)
    arc: str = NONE  # the incoming ARC chain (RFC 8617 cv=): none (no chain), pass, fail

    @property
    def enforced_fail(self) -> bool:
        """Fails DMARC where the domain publishes p=quarantine/p=reject: receivers would refuse it."""
        return self.dmarc == FAIL and self.policy is not None and self.policy.enforced

    def summary(self) -> str:
        """One line for moderators and `archive show`: 'dmarc=fail (p=reject) dkim=none spf=none'.

        >>> AuthResult("a.example", Policy(True, "reject"), dmarc=FAIL).summary()
        'dmarc=fail (p=reject) dkim=none spf=none'
        >>> AuthResult("a.example", None, dmarc=UNKNOWN).summary()
        'dmarc=unknown dkim=none spf=none'
        """
        policy = f" (p={self.policy.policy})" if self.policy is not None and self.policy.published else ""
        signers = f" ({', '.join(self.dkim_domains)})" if self.dkim_domains else ""
        chain = f" arc={self.arc}" if self.arc != NONE else ""
        return f"dmarc={self.dmarc}{policy} dkim={self.dkim}{signers} spf={self.spf}{chain}"

    def results(self) -> str:
        """What this server found, as Authentication-Results method clauses (RFC 8601), for the ARC seal.

        >>> AuthResult("a.example", Policy(True, "reject"), "pass", ("a.example",), dmarc=PASS).results()
        'dkim=pass header.d=a.example; spf=none; dmarc=pass header.from=a.example; arc=none'
        """
        signer = next(iter(self.dkim_domains), "")
        clauses = [
            f"dkim={self.dkim}" + (f" header.d={signer}" if signer else ""),
            f"spf={self.spf}" + (f" smtp.mailfrom={self.spf_domain}" if self.spf_domain else ""),
            f"dmarc={AAR_DMARC.get(self.dmarc, self.dmarc)}" + (f" header.from={self.author_domain}" if self.author_domain else ""),
            f"arc={self.arc}",
        ]
        return "; ".join(clauses)

    def as_json(self) -> str:
        """Stored with the archived and the held post."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, stored: str) -> AuthResult | None:
        """A stored result back; None for '' (not checked) or anything unreadable.

        >>> AuthResult.from_json(AuthResult("a.example", Policy(True, "reject"), dmarc=FAIL).as_json()).enforced_fail
        True
        """
        try:
            fields = json.loads(stored) if stored else None
            if not isinstance(fields, dict):
                return None
            policy = Policy(**fields["policy"]) if fields.get("policy") else None
            return cls(**{**fields, "policy": policy, "dkim_domains": tuple(fields.get("dkim_domains", ()))})
        except (TypeError, ValueError, KeyError):
            return None


def shown(stored: str) -> str:
    """The one-line summary of a stored result, or 'not checked'.

    >>> shown("")
    'not checked'
    """
    found = AuthResult.from_json(stored)
    return found.summary() if found is not None else "not checked"
