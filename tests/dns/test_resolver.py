"""The resolver against a real DNS server on loopback: answers, "does not exist", unknown, the TTL cache."""

from __future__ import annotations


from listserv.config import DnsSettings
from listserv.resolver import Resolver
from tests.conftest import free_port


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_txt_answers_joined(dns, settings):
    """A TXT record split into 255-byte strings comes back as one text, as DKIM keys are read."""
    long = "v=DKIM1; k=rsa; p=" + "A" * 400
    dns.zone.add("s1._domainkey.example.com", "TXT", long)
    assert await Resolver(settings.dns).txt("s1._domainkey.example.com") == (long,)


async def test_missing_name_is_empty_not_unknown(dns, settings):
    """A name that does not exist answers () (known: nothing there), not None."""
    dns.zone.add("example.com", "MX", "10 mx.example.com")
    resolver = Resolver(settings.dns)
    assert await resolver.txt("_dmarc.nowhere.example") == ()
    assert await resolver.txt("example.com") == ()  # the name exists, no TXT
    assert await resolver.lookup("example.com", "MX") == ("10 mx.example.com",)


async def test_failure_is_unknown(dns, settings):
    """SERVFAIL, and a server that never answers, give None (unknown) and raise nothing."""
    dns.zone.failing.add("_dmarc.broken.example")
    assert await Resolver(settings.dns).txt("_dmarc.broken.example") is None
    silent = DnsSettings(nameservers=(f"127.0.0.1:{free_port()}",), timeout=0.3)
    assert await Resolver(silent).txt("_dmarc.example.com") is None


async def test_answers_kept_for_their_ttl(dns, settings):
    """An answer is served from the cache until its TTL runs out, then asked again."""
    clock = Clock()
    dns.zone.add("_dmarc.example.com", "TXT", "v=DMARC1; p=none", ttl=60)
    resolver = Resolver(settings.dns, clock=clock)
    assert await resolver.txt("_dmarc.example.com") == ("v=DMARC1; p=none",)
    dns.zone.replace("_dmarc.example.com", "TXT", "v=DMARC1; p=reject", ttl=60)
    clock.now += 59
    assert await resolver.txt("_dmarc.example.com") == ("v=DMARC1; p=none",)
    clock.now += 2
    assert await resolver.txt("_dmarc.example.com") == ("v=DMARC1; p=reject",)
    assert dns.zone.asked.count(("_dmarc.example.com", "TXT")) == 2


async def test_unknown_is_not_cached(dns, settings):
    """A failed lookup is asked again next time: a passing outage is not remembered."""
    dns.zone.failing.add("_dmarc.example.com")
    resolver = Resolver(settings.dns)
    assert await resolver.txt("_dmarc.example.com") is None
    dns.zone.failing.clear()
    dns.zone.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject")
    assert await resolver.txt("_dmarc.example.com") == ("v=DMARC1; p=reject",)


async def test_answer_over_tcp(dns, settings):
    """The server also answers over TCP, as a truncated UDP answer is asked again."""
    from dns import asyncquery, message

    query = message.make_query("example.com", "MX")
    response = await asyncquery.tcp(query, "127.0.0.1", port=dns.port, timeout=2)
    assert response.rcode() == 3  # NXDOMAIN: the zone is empty, but it answered over TCP
