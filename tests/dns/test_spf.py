"""SPF on the connecting IP (listserv.auth.spf) against the loopback DNS server: each RFC 7208 result."""

from __future__ import annotations

import ipaddress

import pytest

from listserv.auth import spf, spf_macros
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


# RFC 7208 7.4's own examples: sender strong-bad@email.example.com from 192.0.2.3 (or 2001:db8::cb01).
RFC_SENDER = "strong-bad@email.example.com"
RFC_IP4, RFC_IP6 = ipaddress.ip_address("192.0.2.3"), ipaddress.ip_address("2001:db8::cb01")


@pytest.mark.parametrize("spec, expected", [
    ("%{s}", "strong-bad@email.example.com"),
    ("%{o}", "email.example.com"),
    ("%{d}", "email.example.com"),
    ("%{d4}", "email.example.com"),
    ("%{d3}", "email.example.com"),
    ("%{d2}", "example.com"),
    ("%{d1}", "com"),
    ("%{dr}", "com.example.email"),
    ("%{d2r}", "example.email"),
    ("%{l}", "strong-bad"),
    ("%{l-}", "strong.bad"),
    ("%{lr}", "strong-bad"),
    ("%{lr-}", "bad.strong"),
    ("%{l1r-}", "strong"),
    ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
    ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
    ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
    ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
    ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
    ("%{h}.%%.%_.%-", "mta.email.example.com.%. .%20"),
    ("%{S}", "strong-bad%40email.example.com"),
])
def test_rfc_macro_examples(spec, expected):
    """Every macro example of RFC 7208 7.4 expands as the RFC prints it, with %%, %_, %- and URL-escaping."""
    context = spf_macros.Context(RFC_SENDER, "email.example.com", RFC_IP4, "mta.email.example.com")
    assert spf_macros.expand(spec, context) == expected


def test_rfc_ipv6_macro_example():
    """%{i} of an IPv6 client is its 32 nibbles, %{v} is ip6 (RFC 7208 7.4)."""
    context = spf_macros.Context(RFC_SENDER, "email.example.com", RFC_IP6)
    assert spf_macros.expand("%{ir}.%{v}._spf.%{d2}", context) == (
        "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com")


def test_explanation_only_macros():
    """c, r and t expand in explanation text; a long domain loses labels on the left to fit 253 characters."""
    context = spf_macros.Context(RFC_SENDER, "email.example.com", RFC_IP6, receiver="mx.list.example", timestamp=7)
    expanded = spf_macros.expand("%{c} via %{r} at %{t}", context, explanation=True)
    assert expanded == "2001:db8::cb01 via mx.list.example at 7"
    long = spf_macros.expand("%{o}." + "label." * 50 + "example", context)
    assert len(long) <= 253 and long.endswith(".label.example")


@pytest.mark.parametrize("spec", ["%{c}.example", "%{t}.example", "%{x}.example", "%{d0}.example", "50%.example",
                                  "%{d.example"])
async def test_bad_macros_are_permerror(dns, settings, spec):
    """A macro the grammar forbids in a domain-spec (c, r, t; unknown letter; 0 parts; a lone %) is a permerror."""
    dns.zone.add("firm.example", "TXT", f"v=spf1 exists:{spec} -all")
    assert await check(settings, "firm.example") == "permerror"


async def test_exists_with_macros_asks_the_expanded_name(dns, settings):
    """exists:%{ir}.%{v}._spf.%{d2} passes the IPs the domain lists under that name, v4 and v6, and no other."""
    dns.zone.add("email.example.com", "TXT", "v=spf1 exists:%{ir}.%{v}._spf.%{d2} -all")
    dns.zone.add("3.2.0.192.in-addr._spf.example.com", "A", "127.0.0.2")
    six = "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
    dns.zone.add(six, "A", "127.0.0.2")
    resolver = Resolver(settings.dns)
    for ip in (RFC_IP4, RFC_IP6):
        assert await spf.check_host(resolver, ip, "email.example.com", RFC_SENDER) == "pass"
    assert await spf.check_host(resolver, IP, "email.example.com", RFC_SENDER) == "fail"


async def test_local_part_macro_from_the_session(dns, settings):
    """%{l} names MAIL FROM's local part (postmaster for a null MAIL FROM, checked on HELO) in the lookup."""
    dns.zone.add("firm.example", "TXT", "v=spf1 exists:%{l}.users.%{d} -all")
    dns.zone.add("lee.users.firm.example", "A", "127.0.0.2")
    dns.zone.add("postmaster.users.firm.example", "A", "127.0.0.2")
    resolver = Resolver(settings.dns)
    assert await spf.of_session(resolver, "192.0.2.10:4000", "lee@firm.example", "") == ("pass", "firm.example")
    assert await spf.of_session(resolver, "192.0.2.10:4000", "kim@firm.example", "") == ("fail", "firm.example")
    assert await spf.of_session(resolver, "192.0.2.10:4000", "<>", "firm.example") == ("pass", "firm.example")


async def test_macro_in_include_and_redirect(dns, settings):
    """include: and redirect= expand macros too: %{d} is the domain whose record holds the term."""
    dns.zone.add("firm.example", "TXT", "v=spf1 include:_spf.%{d} -all")
    dns.zone.add("_spf.firm.example", "TXT", "v=spf1 ip4:192.0.2.0/24 -all")
    dns.zone.add("red.example", "TXT", "v=spf1 redirect=_spf.firm.%{d1}")
    assert await check(settings, "firm.example") == "pass"
    assert await check(settings, "red.example") == "pass"


async def test_ptr_mechanism(dns, settings):
    """ptr matches a client whose reverse name is the domain or under it and points back to the client's IP."""
    dns.zone.add("10.2.0.192.in-addr.arpa", "PTR", "mta.firm.example.")
    dns.zone.add("mta.firm.example", "A", "192.0.2.10")
    dns.zone.add("firm.example", "TXT", "v=spf1 ptr -all")
    dns.zone.add("other.example", "TXT", "v=spf1 ptr -all")
    dns.zone.add("named.example", "TXT", "v=spf1 ptr:firm.example -all")
    assert await check(settings, "firm.example") == "pass"
    assert await check(settings, "named.example") == "pass"
    assert await check(settings, "other.example") == "fail"  # the reverse name is not under other.example


async def test_ptr_needs_the_forward_name_to_agree(dns, settings):
    """A reverse name whose A record is another IP (a spoofed PTR), or no reverse name at all, does not match."""
    dns.zone.add("10.2.0.192.in-addr.arpa", "PTR", "mta.firm.example.")
    dns.zone.add("mta.firm.example", "A", "198.51.100.7")
    dns.zone.add("firm.example", "TXT", "v=spf1 ptr -all")
    assert await check(settings, "firm.example") == "fail"
    assert await check(settings, "firm.example", ipaddress.ip_address("192.0.2.11")) == "fail"


async def test_ptr_dns_failure_is_no_match(dns, settings):
    """DNS failing on the PTR lookup makes ptr not match (RFC 7208 5.5), never a temperror."""
    dns.zone.failing.add("10.2.0.192.in-addr.arpa")
    dns.zone.add("firm.example", "TXT", "v=spf1 ptr ?all")
    assert await check(settings, "firm.example") == "neutral"
