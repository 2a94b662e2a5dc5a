"""Bounces end to end: the real daemon over loopback SMTP, the sink as smarthost, a DSN sent back to a VERP address."""

from __future__ import annotations

import asyncio
import json

import aiosmtplib

from tests.bounces.conftest import sample
from tests.e2e.helpers import LIST, MEMBERS, make_list, message, parsed, send

BOB = "bob@example.org"
BOB_VERP = "team-bounces+bob=example.org@example.org"


async def send_bounce(port: int, raw: bytes, rcpt: str) -> None:
    """Send as an MTA sends a DSN: from the null sender (MAIL FROM:<>)."""
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
    await client.connect()
    try:
        await client.ehlo()
        assert (await client.execute_command(b"MAIL", b"FROM:<>")).code == 250
        assert (await client.execute_command(b"RCPT", f"TO:<{rcpt}>".encode())).code == 250
        assert (await client.data(raw)).code == 250
    finally:
        await client.quit()


async def _members(cli) -> dict:
    result = await cli("members", "ls", LIST, "--json")
    return {row["address"]: row for row in json.loads(result.output)}


async def _wait(predicate, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_verp_envelopes_then_a_bounce_stops_delivery_and_tells_both(server, sink, cli):
    """Each copy's envelope names its member; a DSN to bob's VERP address stops bob's mail; bob and the owner hear."""
    await make_list(cli)
    assert (await cli("lists", "set", LIST, "bounce_threshold", "1")).exit_code == 0
    await send(server.port, message("ann@example.org", "First"), "ann@example.org")
    await sink.wait_for(lambda: len(sink.recipients()) == len(MEMBERS))
    assert {(frm, tuple(rcpts)) for frm, rcpts, _ in sink.received} == {
        (f"team-bounces+{m.replace('@', '=')}@example.org", (m,)) for m in MEMBERS
    }
    await send_bounce(server.port, sample("postfix_05.txt"), BOB_VERP)

    async def stopped() -> bool:
        return (await _members(cli))[BOB]["delivery"] == "nomail"

    await _wait(stopped)
    assert (await _members(cli))[BOB]["bounce_score"] == 1.0
    await sink.wait_for(lambda: len(sink.copies_for(BOB)) == 2 and len(sink.copies_for("ann@example.org")) == 2)
    assert "has stopped" in parsed(sink.copies_for(BOB)[1])["Subject"]
    assert "delivery to bob@example.org stopped" in parsed(sink.copies_for("ann@example.org")[1])["Subject"]
    await send(server.port, message("ann@example.org", "Second"), "ann@example.org")
    await sink.wait_for(lambda: len(sink.copies_for("cy@example.org")) == 2)
    await asyncio.sleep(0.3)
    assert len(sink.copies_for(BOB)) == 2  # the first post and the notice; not the second post
    bouncing = json.loads((await cli("members", "ls", LIST, "--bouncing", "--json")).output)
    assert [row["address"] for row in bouncing] == [BOB]
