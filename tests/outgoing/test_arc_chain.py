"""ARC on the way in and out: the incoming chain is verified against the loopback DNS server, the result is
recorded with the post, and the list's seal continues a valid chain with what listserv.auth found."""

from __future__ import annotations

import json

import dkim

from tests.dkim_keys import SigningKey
from tests.e2e.helpers import make_list, message, parsed, send
from tests.outgoing.helpers import keygen
from tests.outgoing.test_signed_mail import BOB, OWNER

RELAY = "relay.example"


def relayed(raw: bytes, key: SigningKey, arc: str = "none") -> bytes:
    """raw as a forwarder (relay.example) would pass it on: its Authentication-Results and its ARC set."""
    results = f"Authentication-Results: {RELAY}; dkim=none; spf=pass smtp.mailfrom=example.org; arc={arc}\n"
    headers = dkim.arc_sign(
        (results + raw.decode()).encode(), key.selector.encode(), RELAY.encode(), key.pem, RELAY.encode(),
        include_headers=[b"from", b"to", b"subject"], linesep=b"\n",
    )
    return b"".join(headers) + results.encode() + raw


def relay_key(dns) -> SigningKey:
    key = SigningKey(RELAY)
    key.publish(dns.zone)
    return key


def both(list_dns, relay: SigningKey):
    """A dkimpy dnsfunc serving the list's published keys and the relay's."""
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        if name.decode().rstrip(".").lower() == f"{relay.selector}._domainkey.{RELAY}":
            return relay.record.encode()
        return list_dns(name, timeout)
    return lookup


async def bob_copy_of(server, sink, cli, raw: bytes):
    await make_list(cli)
    list_dns = await keygen(cli)
    await send(server.port, raw, OWNER)
    await sink.wait_for(lambda: sink.copies_for(BOB))
    return sink.copies_for(BOB)[0], list_dns


async def archived_auth(cli) -> str:
    result = await cli("archive", "show", "1", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["authentication"]


def seal_tags(raw: bytes) -> list[dict[str, str]]:
    """The tags of every ARC-Seal of raw."""
    found = []
    for value in parsed(raw).get_all("ARC-Seal"):
        found.append({n.strip(): v.strip() for n, _, v in (part.partition("=") for part in str(value).split(";"))})
    return found


async def test_a_valid_incoming_chain_is_continued_with_i2_and_verifies(server, sink, cli, dns):
    """A post with a valid relay ARC set: the list's seal is i=2 cv=pass and the delivered copy's chain passes."""
    key = relay_key(dns)
    raw, list_dns = await bob_copy_of(server, sink, cli, relayed(message(OWNER, "Forwarded help"), key))
    tags = seal_tags(raw)
    assert sorted((tag["i"], tag["cv"], tag["d"]) for tag in tags) == [("1", "none", RELAY), ("2", "pass", "example.org")]
    assert dkim.arc_verify(raw, dnsfunc=both(list_dns, key))[0] == dkim.CV_Pass
    assert (await archived_auth(cli)).endswith("arc=pass")


async def test_the_aar_says_what_listserv_auth_found(server, sink, cli, dns):
    """The list's ARC-Authentication-Results carry dkim=, spf=, dmarc=, arc= as recorded, authserv-id the list's."""
    key = relay_key(dns)
    raw, _ = await bob_copy_of(server, sink, cli, relayed(message(OWNER, "Results"), key))
    mine = [str(v) for v in parsed(raw).get_all("ARC-Authentication-Results") if str(v).startswith("i=2")]
    assert " ".join(mine[0].split()) == (
        "i=2; example.org; dkim=none; spf=none smtp.mailfrom=example.org; dmarc=none header.from=example.org; arc=pass"
    )
    assert await archived_auth(cli) == "dmarc=none dkim=none spf=none arc=pass"


async def test_a_broken_incoming_chain_is_recorded_as_fail(server, sink, cli, dns):
    """A relay set whose seal does not verify (the key published is another): cv=fail recorded, sealed cv=fail."""
    relayed_raw = relayed(message(OWNER, "Tampered"), SigningKey(RELAY))
    relay_key(dns)  # a different key than the one that sealed
    raw, _ = await bob_copy_of(server, sink, cli, relayed_raw)
    assert (await archived_auth(cli)).endswith("arc=fail")
    assert [tag["cv"] for tag in seal_tags(raw) if tag["d"] == "example.org"] == ["fail"]


async def test_a_chain_whose_key_is_unknown_fails(server, sink, cli, dns):
    """A relay set whose key DNS does not have: the chain is not taken on trust, arc=fail."""
    await bob_copy_of(server, sink, cli, relayed(message(OWNER, "No key"), SigningKey(RELAY)))
    assert (await archived_auth(cli)).endswith("arc=fail")


async def test_a_post_without_a_chain_starts_one(server, sink, cli, dns):
    """No ARC set on arrival: arc=none is recorded (and not shown) and the list's seal is i=1 cv=none."""
    raw, list_dns = await bob_copy_of(server, sink, cli, message(OWNER, "Plain"))
    assert [(tag["i"], tag["cv"]) for tag in seal_tags(raw)] == [("1", "none")]
    assert dkim.arc_verify(raw, dnsfunc=list_dns)[0] == dkim.CV_Pass
    assert await archived_auth(cli) == "dmarc=none dkim=none spf=none"


async def test_the_aar_carries_dkim_spf_and_dmarc_passes(server, sink, cli, dns):
    """A signed post of a p=reject domain from an IP its SPF allows: the seal's AAR says dkim, spf, dmarc pass
    for that domain, as the archived result does."""
    author = SigningKey("agency.example")
    author.publish(dns.zone)
    dns.zone.add("_dmarc.agency.example", "TXT", "v=DMARC1; p=reject")
    dns.zone.add("agency.example", "TXT", "v=spf1 ip4:127.0.0.1 -all")
    await make_list(cli, ("lee@agency.example",))
    await keygen(cli)
    await send(server.port, author.sign(message("Lee <lee@agency.example>", "Both pass")), "lee@agency.example")
    await sink.wait_for(lambda: sink.copies_for(BOB))
    aar = " ".join(str(parsed(sink.copies_for(BOB)[0])["ARC-Authentication-Results"]).split())
    assert aar == ("i=1; example.org; dkim=pass header.d=agency.example; spf=pass smtp.mailfrom=agency.example;"
                   " dmarc=pass header.from=agency.example; arc=none")
    assert await archived_auth(cli) == "dmarc=pass (p=reject) dkim=pass (agency.example) spf=pass"
