"""SPF on the connecting IP (listserv.auth.spf) against the loopback DNS server: each RFC 7208 result."""

from __future__ import annotations

import ipaddress

import pytest

from listserv.auth import spf
from listserv.resolver import Resolver

IP = ipaddress.ip_address("192.0.2.10")


async def check(settings, domain: str, ip=IP) -> str:
    return await spf.check_host(Resolver(settings.dns), ip, domain)


@pytest.mark.parametrize("record, expected", [
    ("v=spf1 ip4:192.0.2.0/24 -all", "pass"),
    ("v=spf1 ip4:198.51.100.1 -all", "fail"),
    ("v=spf1 ip4:198.51.100.1 ~all", "softfail"),
    ("v=spf1 ip4:198.51.100.1 ?all", "neutral"),
    ("v=spf1 ip4:198.51.100.1", "neutral"),
    ("v=spf1 ip4:not-an-address -all", "permerror"),
    ("v=spf1 frobnicate -all", "permerror"),
])
async def test_record_results(dns, settings, record, expected):
    """ip4 and all with each qualifier give pass/fail/softfail/neutral; a broken term is a permerror."""
    dns.zone.add("firm.example", "TXT", record)
    assert await check(settings, "firm.example") == expected


async def test_no_record_is_none(dns, settings):
    """A domain without an SPF record (other TXT only, or no name at all) is none."""
    dns.zone.add("firm.example", "TXT", "google-site-verification=abc")
    assert await check(settings, "firm.example") == "none"
    assert await check(settings, "nowhere.example") == "none"


async def test_two_records_are_permerror(dns, settings):
    """Two v=spf1 records at one name is a permerror (RFC 7208 4.5)."""
    dns.zone.add("firm.example", "TXT", "v=spf1 -all")
    dns.zone.add("firm.example", "TXT", "v=spf1 +all")
    assert await check(settings, "firm.example") == "permerror"


async def test_dns_failure_is_temperror(dns, settings):
    """SERVFAIL for the record is a temperror, which DMARC reads as unknown."""
    dns.zone.failing.add("firm.example")
    assert await check(settings, "firm.example") == "temperror"


async def test_a_mx_include_redirect(dns, settings):
    """a (with a prefix), mx, include and redirect follow the names they give."""
    dns.zone.add("out.firm.example", "A", "192.0.2.99")
    dns.zone.add("a.example", "TXT", "v=spf1 a:out.firm.example/24 -all")
    dns.zone.add("mx.example", "TXT", "v=spf1 mx/24 -all")
    dns.zone.add("mx.example", "MX", "10 out.firm.example")
    dns.zone.add("inc.example", "TXT", "v=spf1 include:mx.example -all")
    dns.zone.add("red.example", "TXT", "v=spf1 redirect=a.example")
    dns.zone.add("other.example", "TXT", "v=spf1 include:a.example -all")
    assert [await check(settings, name) for name in ("a.example", "inc.example", "red.example")] == ["pass"] * 3
    assert await check(settings, "mx.example", ipaddress.ip_address("203.0.113.1")) == "fail"
    assert await check(settings, "other.example", ipaddress.ip_address("203.0.113.1")) == "fail"


async def test_ip6(dns, settings):
    """ip6 matches an IPv6 client, never an IPv4 one."""
    dns.zone.add("six.example", "TXT", "v=spf1 ip6:2001:db8::/32 -all")
    assert await check(settings, "six.example", ipaddress.ip_address("2001:db8::5")) == "pass"
    assert await check(settings, "six.example") == "fail"


async def test_include_of_nothing_and_redirect_to_nothing_are_permerror(dns, settings):
    """include: or redirect= of a domain without SPF is a permerror (RFC 7208 5.2, 6.1)."""
    dns.zone.add("inc.example", "TXT", "v=spf1 include:empty.example -all")
    dns.zone.add("red.example", "TXT", "v=spf1 redirect=empty.example")
    assert await check(settings, "inc.example") == "permerror"
    assert await check(settings, "red.example") == "permerror"


async def test_more_than_ten_lookups_is_permerror(dns, settings):
    """A chain of includes past 10 DNS lookups is a permerror (RFC 7208 4.6.4), a loop included."""
    for number in range(12):
        dns.zone.add(f"n{number}.example", "TXT", f"v=spf1 include:n{number + 1}.example -all")
    dns.zone.add("loop.example", "TXT", "v=spf1 include:loop.example -all")
    assert await check(settings, "n0.example") == "permerror"
    assert await check(settings, "loop.example") == "permerror"


async def test_session_uses_mail_from_else_helo(dns, settings):
    """MAIL FROM's domain is checked; with a null MAIL FROM, the HELO name; no IP or no domain is none."""
    dns.zone.add("firm.example", "TXT", "v=spf1 ip4:192.0.2.10 -all")
    dns.zone.add("mta.firm.example", "TXT", "v=spf1 -all")
    resolver = Resolver(settings.dns)
    assert await spf.of_session(resolver, "192.0.2.10:4000", "lee@firm.example", "mta.firm.example") == (
        "pass", "firm.example")
    for null in ("", "<>"):
        assert await spf.of_session(resolver, "192.0.2.10:4000", null, "mta.firm.example") == ("fail", "mta.firm.example")
    assert await spf.of_session(resolver, "", "lee@firm.example", "") == ("none", "firm.example")
