"""Copies that went through a real Postfix still verify: DKIM and ARC against the loopback DNS server, munged From.

The keys are those `listserv dkim keygen` made, their records published in
the loopback DNS zone exactly as keygen printed them; dkimpy looks them up
over real DNS (UDP on loopback), as a receiving provider would.
"""

from __future__ import annotations

from email.utils import formatdate

import dkim
import dns.exception
import dns.resolver
import pytest

from tests.dkim_keys import SigningKey
from tests.e2e.helpers import LIST, MEMBERS, message, parsed, send
from tests.outgoing.helpers import records, verified_algorithms
from tests.postfix.test_through_postfix import _copies

AUTHOR = "lee@agency.example"


def over_dns(server):
    """A dnsfunc for dkimpy that asks the loopback DNS server for the TXT record of a name."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port = ["127.0.0.1"], server.port

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        try:
            answer = resolver.resolve(name.decode("ascii"), "TXT", lifetime=timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.exception.Timeout):
            return None
        return b"".join(answer.rrset[0].strings)
    return lookup


@pytest.fixture
async def published(front, cli, dns):
    """`listserv dkim keygen example.org`, its printed records served by the loopback DNS server; the dnsfunc."""
    result = await cli("dkim", "keygen", "example.org")
    assert result.exit_code == 0, result.output
    printed = records(result.output)
    assert printed
    for name, value in printed.items():
        dns.zone.add(name, "TXT", value.decode("ascii"))
    return over_dns(dns)


async def test_every_copy_verifies_after_postfix(front, sink, published):
    """Each member's copy, relayed by Postfix, carries list signatures (RSA and Ed25519) that verify over DNS."""
    await send(front.port, message("ann@example.org", "Expert on jail conditions"), "ann@example.org")
    await _copies(sink, front, len(MEMBERS))
    for address in MEMBERS:
        [copy] = sink.copies_for(address)
        assert b"Received: from" in copy  # Postfix's own trace header: it really passed through
        assert sorted(verified_algorithms(copy, published)) == [b"ed25519-sha256", b"rsa-sha256"], address


async def test_copy_is_arc_sealed_after_postfix(front, sink, published):
    """The ARC seal of a delivered copy verifies (dkimpy arc_verify: pass) after Postfix relayed it."""
    await send(front.port, message("ann@example.org", "Sealed through Postfix"), "ann@example.org")
    await _copies(sink, front, len(MEMBERS))
    copy = sink.copies_for("bob@example.org")[0]
    result, _, reason = dkim.arc_verify(copy, dnsfunc=published)
    assert result == dkim.CV_Pass, reason


async def test_reject_domain_post_arrives_munged_and_verifies(front, sink, cli, dns, published):
    """A post signed by a p=reject domain passes inbound DMARC, arrives "Ann Lee via team" <team@…> with the author
    in Reply-To and X-Original-From, and the list's signature and seal verify after Postfix."""
    dns.zone.add("_dmarc.agency.example", "TXT", "v=DMARC1; p=reject")
    author_key = SigningKey("agency.example")
    author_key.publish(dns.zone)
    assert (await cli("members", "add", LIST, AUTHOR, "--name", "Ann Lee")).exit_code == 0
    # Date and Message-ID as the author's mail program sets them (Postfix would add them, breaking the signature)
    raw = author_key.sign(message("Ann Lee <lee@agency.example>", "Mitigation specialist in Texas?",
                                  Date=formatdate(), Message_ID="<m1@agency.example>"))
    await send(front.port, raw, AUTHOR)
    await _copies(sink, front, len(MEMBERS) + 1)
    copy = sink.copies_for("bob@example.org")[0]
    shown = parsed(copy)
    mailbox = shown["From"].addresses[0]
    assert (mailbox.display_name, mailbox.addr_spec) == ("Ann Lee via team", LIST)
    assert shown["Reply-To"] == "Ann Lee <lee@agency.example>"
    assert shown["X-Original-From"] == "Ann Lee <lee@agency.example>"
    assert sorted(verified_algorithms(copy, published)) == [b"ed25519-sha256", b"rsa-sha256"]
    assert dkim.arc_verify(copy, dnsfunc=published)[0] == dkim.CV_Pass
    held = await cli("held", "ls", "--json")
    assert held.output.strip() == "[]"  # passed inbound DMARC: delivered, not held as unauthenticated
