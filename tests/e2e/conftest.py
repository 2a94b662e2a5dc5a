"""Fixtures shared by the end-to-end tests of authentication and DMARC mitigation."""

from __future__ import annotations

import pytest

from tests.dkim_keys import SigningKey


@pytest.fixture
def agency_key(dns):
    """agency.example publishes p=reject and a DKIM key (served by the loopback DNS server); its member's
    posts are signed with it."""
    dns.zone.add("_dmarc.agency.example", "TXT", "v=DMARC1; p=reject; rua=mailto:dmarc@agency.example")
    key = SigningKey("agency.example")
    key.publish(dns.zone)
    return key
