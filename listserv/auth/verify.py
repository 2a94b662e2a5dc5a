"""Authenticate one inbound message: DKIM and ARC (dkimpy), SPF (a trusted MTA's Authentication-Results, else
checked on the connecting IP: listserv.auth.spf), DMARC.

dkimpy asks DNS synchronously; here the key records its signatures name are
fetched first with the asynchronous resolver (cached for their TTL) and
dkimpy reads them from that dict, so verification never blocks the loop on
the network. Nothing here raises for a hostile or broken message: a signature
that cannot be checked fails, a key DNS cannot give is a temporary error, and
DMARC with either unknown is "unknown" (which holds nothing).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from listserv import message
from listserv.auth import dmarc, spf
from listserv.auth.result import FAIL, NONE, PASS, UNKNOWN, AuthResult
from listserv.config import Settings

if TYPE_CHECKING:
    from listserv.resolver import Resolver

log = logging.getLogger(__name__)

TEMPERROR = "temperror"
MAX_SIGNATURES = 5  # signatures checked per message: a post carrying hundreds must not cost hundreds of lookups
MAX_ARC_KEYS = 10  # distinct keys fetched for an ARC chain: a longer chain's missing keys fail it
ARC_HEADERS = ("ARC-Seal", "ARC-Message-Signature")
# dkimpy logs header fields (subjects of confidential posts among them) at DEBUG: its lines go nowhere.
QUIET = logging.Logger("listserv.auth.dkimpy", level=logging.CRITICAL + 1)


class Authenticator:
    """One resolver (and its cache) and the trusted authserv-ids, for every message the pipeline sees."""

    def __init__(self, resolver: Resolver, trusted_authserv_ids: tuple[str, ...] = ()) -> None:
        self.resolver = resolver
        self.trusted = {name.lower() for name in trusted_authserv_ids}

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        # Imported here: the daemon imports this module with the pipeline package but only the pipeline
        # process verifies, so dnspython (11 MB resident, bench/README.md) stays out of the daemon.
        from listserv.resolver import Resolver

        return cls(Resolver(settings.dns), settings.auth.trusted_authserv_ids)

    async def check(self, raw: bytes, mail_from: str = "", peer: str = "", helo: str = "") -> AuthResult:
        """The authentication result of a raw message (never raises for the message's sake).

        mail_from, peer ("ip:port" as intake records it) and helo are the SMTP
        session's: SPF is checked on them when no trusted MTA in front said.
        """
        head = message.parse_headers(raw)
        sender, _, _ = message.from_mailbox(head)
        domain = sender.rpartition("@")[2] if sender else ""
        if not domain:
            return AuthResult()
        policy = await dmarc.lookup(self.resolver, domain)
        signers, dkim_result = await self._dkim(raw, head, domain, policy)
        spf_result, spf_domain = self._spf(head)
        if spf_result == NONE and not spf_domain and peer:
            spf_result, spf_domain = await spf.of_session(self.resolver, peer, mail_from, helo)
        chain = await self._arc(raw, head)
        result = AuthResult(domain, policy, dkim_result, signers, spf_result, spf_domain, arc=chain)
        return _with_dmarc(result)

    async def _arc(self, raw: bytes, head) -> str:
        """The incoming ARC chain's validation (RFC 8617 5.2): none without a chain, else pass or fail."""
        tags = [_tags(value) for name in ARC_HEADERS for value in message.raw_values(head, name)]
        if not tags:
            return NONE
        keys: dict[str, tuple | None] = {}
        for found in tags:
            name = f"{found.get('s', '')}._domainkey.{found.get('d', '')}".lower()
            if found.get("s") and found.get("d") and name not in keys and len(keys) < MAX_ARC_KEYS:
                keys[name] = await self.resolver.txt(name)
        lookup = _answers(keys)
        import dkim  # here, not at the top: see _Checker

        try:
            verdict = dkim.ARC(raw, logger=QUIET, minkey=1024).verify(dnsfunc=lookup)[0]
        except Exception as exc:  # dkimpy raises a zoo of errors on malformed ARC sets: that chain fails
            log.debug("arc: chain not verified (%s)", type(exc).__name__)
            return FAIL
        return {dkim.CV_Pass: PASS, dkim.CV_None: NONE}.get(verdict, FAIL)

    async def _dkim(
        self, raw: bytes, head, domain: str, policy: dmarc.Policy | None
    ) -> tuple[tuple[str, ...], str]:
        """(d= of valid signatures, the DKIM result for the From: domain)."""
        tags = [_tags(value) for value in message.raw_values(head, "DKIM-Signature")[:MAX_SIGNATURES]]
        if not tags:
            return (), NONE
        keys = {}
        for found in tags:
            name = f"{found.get('s', '')}._domainkey.{found.get('d', '')}".lower()
            if found.get("s") and found.get("d") and name not in keys:
                keys[name] = await self.resolver.txt(name)
        checker = _Checker(raw, keys)
        valid = tuple(found.get("d", "").lower() for index, found in enumerate(tags) if checker.verify(index))
        strict = policy is not None and policy.adkim == "s"
        if any(aligned(signer, domain, strict) for signer in valid):
            return valid, PASS
        if checker.unknown_key:
            return valid, TEMPERROR
        return valid, FAIL

    def _spf(self, head) -> tuple[str, str]:
        """The SPF result and domain a trusted MTA recorded; (none, '') when none did."""
        for value in message.raw_values(head, "Authentication-Results"):
            authserv, _, rest = value.partition(";")
            if authserv.strip().split(" ")[0].lower() not in self.trusted:
                continue
            for clause in rest.split(";"):
                words = clause.split()
                if words and words[0].lower().startswith("spf="):
                    mailfrom = next((w.partition("=")[2] for w in words if w.lower().startswith("smtp.mailfrom=")), "")
                    return words[0].partition("=")[2].lower(), mailfrom.rpartition("@")[2].lower()
        return NONE, ""


class _Checker:
    """dkimpy's verification with keys from a dict filled beforehand; remembers when a key was unknown."""

    def __init__(self, raw: bytes, keys: dict[str, tuple | None]) -> None:
        self.keys = keys
        self.unknown_key = False
        # Imported on the first signed post, not at the top: the daemon imports this module with the pipeline
        # package but never verifies (it signs with listserv.outgoing), so dkimpy stays out of its memory.
        import dkim

        self._dkim = dkim.DKIM(raw, minkey=1024, logger=QUIET)

    def verify(self, index: int) -> bool:
        try:
            return bool(self._dkim.verify(idx=index, dnsfunc=self._txt))
        except Exception as exc:  # dkimpy raises a zoo of errors on malformed signatures: that one fails
            log.debug("dkim: signature %d not verified (%s)", index, type(exc).__name__)
            return False

    def _txt(self, name: bytes | str, timeout: float = 5) -> bytes | None:
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        records = self.keys.get(text.lower().rstrip("."))
        if records is None:
            self.unknown_key = self.unknown_key or text.lower().rstrip(".") in self.keys
            return None
        return records[0].encode() if records else None


def _answers(keys: dict[str, tuple | None]):
    """A dnsfunc for dkimpy answering from the key records fetched beforehand (unknown: None)."""
    def txt(name: bytes | str, timeout: float = 5) -> bytes | None:
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        records = keys.get(text.lower().rstrip("."))
        return records[0].encode() if records else None
    return txt


def _tags(value: str) -> dict[str, str]:
    """The tags of a DKIM-Signature header (only d= and s= are read here; dkimpy parses the rest).

    >>> _tags("v=1; a=rsa-sha256; d=Agency.example;\\n s=sel1; b=abc")["d"], _tags("d=x; s= s1 ")["s"]
    ('Agency.example', 's1')
    """
    found = {}
    for part in value.split(";"):
        name, sep, text = part.partition("=")
        if sep:
            found[name.strip().lower()] = "".join(text.split())
    return found


def aligned(signer: str, domain: str, strict: bool) -> bool:
    """DMARC identifier alignment (RFC 7489 3.1): the same domain (strict), or the same organisational domain.

    >>> aligned("mail.agency.example", "agency.example", False), aligned("mail.agency.example", "agency.example", True)
    (True, False)
    """
    signer, domain = signer.lower().rstrip("."), domain.lower().rstrip(".")
    if not signer or not domain:
        return False
    if strict:
        return signer == domain
    return dmarc.organisational_domain(signer) == dmarc.organisational_domain(domain)


def _with_dmarc(result: AuthResult) -> AuthResult:
    """The DMARC verdict: pass with an aligned DKIM or SPF pass; unknown where DNS could not say."""
    policy = result.policy
    if policy is None:
        return replace(result, dmarc=UNKNOWN)
    if not policy.published:
        return replace(result, dmarc=NONE)
    spf_pass = result.spf == PASS and aligned(result.spf_domain, result.author_domain, policy.aspf == "s")
    if result.dkim == PASS or spf_pass:
        return replace(result, dmarc=PASS)
    unknown = result.dkim == TEMPERROR or result.spf == TEMPERROR  # DNS could not say: holds nothing
    return replace(result, dmarc=UNKNOWN if unknown else FAIL)
