"""Asynchronous DNS lookups for everything that asks DNS (DMARC, DKIM keys, `dns check`), with a TTL cache.

The servers asked come from `[dns] nameservers` (tests point it at a DNS server
on loopback; empty means the system resolver). A lookup answers in three ways:
records (a tuple, possibly empty when the name or type does not exist), or
None when DNS could not say (timeout, SERVFAIL, no resolver configured). None
is "unknown": callers treat it as such and never let it stop a post, so this
module never raises on a DNS failure. Answers, and the "does not exist"
answers, are kept for their TTL, so a busy list asks once per record lifetime.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver
import dns.reversename

from listserv import endpoints
from listserv.config import DnsSettings

log = logging.getLogger(__name__)

NEGATIVE_TTL = 300  # seconds a "does not exist" answer is kept when its SOA gives none
MAX_TTL = 86400  # a TTL beyond a day is cut to a day: a changed policy is seen within one
Records = tuple  # the records of one answer, each as text (TXT: its strings joined)


class Resolver:
    """Looks names up with the configured servers and keeps each answer for its TTL.

    `clock` is injectable so a test can show an answer expires without waiting.
    """

    def __init__(self, settings: DnsSettings, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[float, Records]] = {}
        self._resolver = _make_resolver(settings)

    async def lookup(self, name: str, rdtype: str) -> Records | None:
        """The records of `name` of type `rdtype` ("TXT", "MX", "A", "PTR" ...); () when none; None: unknown."""
        key = (name.lower().rstrip("."), rdtype)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        found = await self._ask(*key)
        if found is not None:
            records, ttl = found
            self._cache[key] = (self.clock() + min(ttl, MAX_TTL), records)
            return records
        return None

    async def txt(self, name: str) -> Records | None:
        """The TXT records of name, each one's strings joined (RFC 7208 3.3, RFC 6376 3.6.2.2)."""
        return await self.lookup(name, "TXT")

    async def ptr(self, address: str) -> Records | None:
        """The names an IP address points back to."""
        try:
            name = dns.reversename.from_address(address).to_text()
        except (dns.exception.SyntaxError, ValueError):
            return ()
        return await self.lookup(name, "PTR")

    async def _ask(self, name: str, rdtype: str) -> tuple[Records, int] | None:
        if self._resolver is None:
            return None
        try:
            answer = await self._resolver.resolve(name, rdtype, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer) as exc:
            return (), _negative_ttl(exc)
        except (dns.exception.DNSException, OSError) as exc:  # timeout, SERVFAIL, refused: unknown
            log.info("dns: %s %s unknown (%s)", rdtype, name, type(exc).__name__)
            return None
        return tuple(_text(rdata) for rdata in answer), answer.rrset.ttl if answer.rrset is not None else 0


def _make_resolver(settings: DnsSettings) -> dns.asyncresolver.Resolver | None:
    """A dnspython resolver asking the configured servers, or the system's; None when there is none."""
    try:
        resolver = dns.asyncresolver.Resolver(configure=not settings.nameservers)
    except dns.resolver.NoResolverConfiguration:
        log.warning("dns: no system resolver configured and [dns] nameservers empty: every lookup is unknown")
        return None
    if settings.nameservers:
        servers = [endpoints.nameserver(entry) for entry in settings.nameservers]
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in servers if host]
    resolver.timeout = settings.timeout
    resolver.lifetime = settings.timeout
    resolver.cache = None  # ours keeps negative answers too and obeys the injected clock
    return resolver


def _negative_ttl(exc: dns.exception.DNSException) -> int:
    """How long "does not exist" holds: the SOA minimum of the answer when it came with one (RFC 2308)."""
    responses = getattr(exc, "responses", None)
    try:
        for response in (responses() if callable(responses) else {}).values():
            for rrset in response.authority:
                if rrset.rdtype == dns.rdatatype.SOA:
                    return min(rrset.ttl, rrset[0].minimum)
    except (AttributeError, IndexError, TypeError):
        pass
    return NEGATIVE_TTL


def _text(rdata: object) -> str:
    """One record as text; TXT strings are joined without separators, as DKIM, SPF and DMARC read them."""
    strings = getattr(rdata, "strings", None)
    if strings is not None:
        return b"".join(strings).decode("utf-8", "replace")
    return rdata.to_text().rstrip(".") if hasattr(rdata, "to_text") else str(rdata)
