"""DMARC policy lookup against the loopback DNS server: own record, organisational domain, sp=, unknown."""

from __future__ import annotations

from listserv.auth import dmarc
from listserv.resolver import Resolver


async def test_own_record(dns, settings):
    """A domain's own _dmarc record gives its p=."""
    dns.zone.add("_dmarc.agency.example", "TXT", "v=DMARC1; p=reject; rua=mailto:d@agency.example")
    found = await dmarc.lookup(Resolver(settings.dns), "Agency.Example")
    assert found == dmarc.Policy(True, "reject", "agency.example")
    assert found.enforced


async def test_subdomain_uses_organisation_sp(dns, settings):
    """A subdomain without a record takes the organisational domain's sp= (else its p=)."""
    dns.zone.add("_dmarc.agency.gov.uk", "TXT", "v=DMARC1; p=reject; sp=quarantine")
    dns.zone.add("_dmarc.firm.co.uk", "TXT", "v=DMARC1; p=reject")
    resolver = Resolver(settings.dns)
    assert (await dmarc.lookup(resolver, "mail.agency.gov.uk")).policy == "quarantine"
    assert (await dmarc.lookup(resolver, "mail.firm.co.uk")).policy == "reject"
    assert ("_dmarc.gov.uk", "TXT") not in dns.zone.asked  # the public suffix is never asked


async def test_no_record_and_p_none(dns, settings):
    """No record anywhere is NOT_PUBLISHED; p=none is published but not enforced; other TXT are ignored."""
    dns.zone.add("_dmarc.relaxed.example", "TXT", "v=DMARC1; p=none")
    dns.zone.add("_dmarc.other.example", "TXT", "v=spf1 -all")
    resolver = Resolver(settings.dns)
    assert await dmarc.lookup(resolver, "nodmarc.example") == dmarc.NOT_PUBLISHED
    assert await dmarc.lookup(resolver, "other.example") == dmarc.NOT_PUBLISHED
    relaxed = await dmarc.lookup(resolver, "relaxed.example")
    assert relaxed.published and not relaxed.enforced


async def test_two_records_are_none(dns, settings):
    """Two DMARC records at one name count as none (RFC 7489 6.6.3)."""
    dns.zone.add("_dmarc.twice.example", "TXT", "v=DMARC1; p=reject")
    dns.zone.add("_dmarc.twice.example", "TXT", "v=DMARC1; p=none")
    assert await dmarc.lookup(Resolver(settings.dns), "twice.example") == dmarc.NOT_PUBLISHED


async def test_dns_failure_is_unknown(dns, settings):
    """A SERVFAIL on the record is None (unknown), never an exception."""
    dns.zone.failing.add("_dmarc.broken.example")
    assert await dmarc.lookup(Resolver(settings.dns), "broken.example") is None


async def test_policy_cached_for_ttl(dns, settings):
    """The second lookup of a domain within the record's TTL asks DNS nothing."""
    dns.zone.add("_dmarc.agency.example", "TXT", "v=DMARC1; p=reject", ttl=600)
    resolver = Resolver(settings.dns)
    await dmarc.lookup(resolver, "agency.example")
    await dmarc.lookup(resolver, "agency.example")
    assert dns.zone.asked.count(("_dmarc.agency.example", "TXT")) == 1
