"""Our ARC set (OpenSSL) verifies with dkimpy's arc_verify: a new chain, a continued one, a failed one ended."""

from __future__ import annotations

import dkim
import pytest

from listserv.auth.result import AuthResult
from listserv.outgoing import finish, keys
from tests.dkim_keys import SigningKey
from tests.outgoing.helpers import dns_from, well_signed
from tests.outgoing.test_arc_chain import RELAY, relayed, seal_tags

DOMAIN = "example.org"
POST = (
    b"From: Ann <ann@example.org>\r\nTo: team@example.org\r\nSubject: Records request\r\n"
    b"Message-ID: <m1@example.org>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\nThe school records arrived.\r\n"
)


@pytest.fixture
def relay() -> SigningKey:
    return SigningKey(RELAY)


@pytest.fixture
def published(settings, relay):
    """The list domain's keys (as `dkim keygen` makes them) and the relay's, served to dkimpy."""
    records = {record.name.casefold(): record.value.encode() for record in keys.generate(settings, DOMAIN)}
    records[f"{relay.selector}._domainkey.{RELAY}"] = relay.record.encode()
    return dns_from(records)


def _auth(arc: str) -> AuthResult:
    return AuthResult(DOMAIN, None, spf="pass", spf_domain=DOMAIN, arc=arc)


def test_a_post_without_a_chain_starts_one(settings, published):
    """No ARC set on arrival: ours is i=1 cv=none, the chain passes, and both DKIM signatures still verify."""
    raw = finish(settings, DOMAIN, POST, seal=True, auth=_auth("none"))
    assert [(tag["i"], tag["cv"]) for tag in seal_tags(raw)] == [("1", "none")]
    assert dkim.arc_verify(raw, dnsfunc=published)[0] == dkim.CV_Pass
    assert well_signed(raw, published)


def test_a_valid_chain_is_continued(settings, published, relay):
    """A relay's valid set (made by dkimpy): ours is i=2 cv=pass and the whole chain passes."""
    incoming = relayed(POST.replace(b"\r\n", b"\n"), relay).replace(b"\n", b"\r\n")
    raw = finish(settings, DOMAIN, incoming, seal=True, auth=_auth("pass"))
    assert sorted((tag["i"], tag["cv"]) for tag in seal_tags(raw)) == [("1", "none"), ("2", "pass")]
    assert dkim.arc_verify(raw, dnsfunc=published)[0] == dkim.CV_Pass


def test_the_aar_says_what_was_found(settings, published):
    """The ARC-Authentication-Results name the list's domain and carry listserv.auth's clauses."""
    raw = finish(settings, DOMAIN, POST, seal=True, auth=_auth("none"))
    aar = [line for line in raw.split(b"\r\n\r\n")[0].replace(b"\r\n ", b" ").split(b"\r\n")
           if line.startswith(b"ARC-Authentication-Results:")]
    assert aar == [b"ARC-Authentication-Results: i=1; example.org; dkim=none; spf=pass smtp.mailfrom=example.org;"
                   b" dmarc=none header.from=example.org; arc=none"]


def test_a_failed_chain_is_ended_with_cv_fail(settings, published, relay):
    """The incoming chain failed: ours is cv=fail, and for dkimpy the chain has ended (None): nobody trusts it on."""
    incoming = relayed(POST.replace(b"\r\n", b"\n"), relay).replace(b"\n", b"\r\n")
    raw = finish(settings, DOMAIN, incoming, seal=True, auth=_auth("fail"))
    assert [tag["cv"] for tag in seal_tags(raw) if tag["d"] == DOMAIN] == ["fail"]
    assert dkim.arc_verify(raw, dnsfunc=published)[0] is None


def test_a_chain_nobody_checked_is_not_continued(settings, published, relay):
    """A message with a chain and no check (auth None): signed, but no seal vouches for the sets before it."""
    incoming = relayed(POST.replace(b"\r\n", b"\n"), relay).replace(b"\n", b"\r\n")
    raw = finish(settings, DOMAIN, incoming, seal=True)
    assert [tag["d"] for tag in seal_tags(raw)] == [RELAY]
    assert well_signed(raw, published)


def test_a_tampered_copy_fails_the_chain(settings, published):
    """A body changed after sealing: the chain no longer passes."""
    raw = finish(settings, DOMAIN, POST, seal=True, auth=_auth("none"))
    assert dkim.arc_verify(raw.replace(b"school", b"prison"), dnsfunc=published)[0] == dkim.CV_Fail
