"""A list end to end: the real daemon over loopback SMTP, a real SQLite file, the sink as smarthost."""

from __future__ import annotations

import asyncio
import json

import aiosmtplib
import pytest

from tests.e2e.helpers import LIST, MEMBERS, held, make_list, message, parsed, send


async def test_member_post_reaches_every_member_once_decorated(server, sink, cli):
    """A member's post reaches each regular member exactly once, with List-* headers and the prefix."""
    await make_list(cli)
    await send(server.port, message("ann@example.org", "Records request"), "ann@example.org")
    await sink.wait_for(lambda: len(sink.recipients()) >= len(MEMBERS))
    await asyncio.sleep(0.3)  # nothing more may arrive
    assert sorted(sink.recipients()) == sorted(MEMBERS)
    copy = parsed(sink.copies_for("bob@example.org")[0])
    assert copy["Subject"] == "[team] Records request"
    assert "<team.example.org>" in copy["List-Id"]
    assert copy["List-Post"] == "<mailto:team@example.org>"
    for header in ("List-Help", "List-Subscribe", "List-Unsubscribe"):
        assert "mailto:team-request@example.org" in copy[header]
    assert copy["Precedence"] == "list"
    assert copy["X-BeenThere"] == LIST
    # VERP (the default): one transaction per member, whose envelope sender names that member.
    envelopes = sorted((envelope_from, tuple(rcpts)) for envelope_from, rcpts, _ in sink.received)
    assert envelopes == [(f"team-bounces+{m.replace('@', '=')}@example.org", (m,)) for m in sorted(MEMBERS)]


async def test_nonmember_post_is_held_then_approved(server, sink, cli):
    """A non-member's post waits in `held ls` with its reason and reaches everyone after approve."""
    await make_list(cli)
    await send(server.port, message("stranger@example.com", "Let me in"), "stranger@example.com")
    waiting = await _wait_held(cli, 1)
    assert waiting[0]["sender"] == "stranger@example.com"
    assert waiting[0]["list"] == LIST
    assert any("member" in reason["text"] for reason in waiting[0]["reasons"])
    await sink.wait_for(lambda: sink.recipients())  # the one notice to the moderators (ann owns the list)
    [(_, notified, notice)] = sink.received
    assert notified == ["ann@example.org"] and f"held approve {waiting[0]['id']}".encode() in notice
    result = await cli("held", "approve", str(waiting[0]["id"]), "--by", "mod@example.org")
    assert result.exit_code == 0, result.output
    await sink.wait_for(lambda: sorted(sink.recipients()) == sorted(MEMBERS + ("ann@example.org",)))
    assert await held(cli) == []


async def test_reject_tells_a_member_and_discard_tells_nobody(server, sink, cli):
    """`held reject --reason` mails the (moderated) member why; `held discard` drops silently."""
    await make_list(cli, ("dee@example.org", "--moderated"))
    await send(server.port, message("dee@example.org", "First post"), "dee@example.org")
    await send(server.port, message("dee@example.org", "Second post"), "dee@example.org")
    first, second = await _wait_held(cli, 2)
    result = await cli("held", "reject", str(first["id"]), "--reason", "off topic for this list")
    assert result.exit_code == 0, result.output
    await sink.wait_for(lambda: sink.copies_for("dee@example.org"))
    notice = parsed(sink.copies_for("dee@example.org")[0])
    assert "off topic for this list" in notice.get_content()
    assert (await cli("held", "discard", str(second["id"]))).exit_code == 0
    await asyncio.sleep(0.5)
    # ann, the owner, got one notice per held post; dee only the rejection.
    assert sorted(sink.recipients()) == ["ann@example.org", "ann@example.org", "dee@example.org"]
    assert await held(cli) == []


async def test_unknown_recipient_gets_550_and_oversize_gets_552(server, cli):
    """RCPT to an address that is not a list gets 550; a too-big message gets 552; the daemon serves on."""
    await make_list(cli)
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await send(server.port, message("ann@example.org", "x"), "ann@example.org", ["nobody@example.org"])
    assert refused.value.recipients[0].code == 550
    huge = message("ann@example.org", "big", "x" * 80 + ("\n" + "y" * 80) * 200_000)
    with pytest.raises(aiosmtplib.SMTPResponseException) as too_big:
        await send(server.port, huge, "ann@example.org")
    assert too_big.value.code == 552
    await send(server.port, message("ann@example.org", "still here"), "ann@example.org")


async def test_nomail_member_gets_nothing(server, sink, cli):
    """A member with delivery nomail receives no copy; the others do."""
    await make_list(cli, ("dee@example.org", "--delivery", "nomail"))
    await send(server.port, message("bob@example.org", "Hi"), "bob@example.org")
    await sink.wait_for(lambda: len(sink.recipients()) >= len(MEMBERS))
    await asyncio.sleep(0.3)
    assert "dee@example.org" not in sink.recipients()


async def test_smarthost_451_delays_but_delivers(server, sink, cli):
    """The smarthost answering 451 for a while delays delivery; every member still gets the post."""
    await make_list(cli)
    sink.tempfail_data = 2
    await send(server.port, message("ann@example.org", "Patience"), "ann@example.org")
    await sink.wait_for(lambda: sorted(sink.recipients()) == sorted(MEMBERS), timeout=20)
    assert sink.transactions >= 3


async def test_550_for_one_recipient_does_not_stop_others(server, sink, cli):
    """One recipient refused with 550 is recorded as failed; the others are delivered."""
    await make_list(cli)
    sink.fail_rcpt["cy@example.org"] = "550 5.1.1 no such mailbox"
    await send(server.port, message("ann@example.org", "Hello"), "ann@example.org")
    await sink.wait_for(lambda: sorted(sink.recipients()) == ["ann@example.org", "bob@example.org"])
    queue = json.loads((await cli("queue", "ls", "--json")).output)
    assert queue == []


async def _wait_held(cli, count: int, timeout: float = 10.0) -> list[dict]:
    for _ in range(int(timeout / 0.05)):
        rows = await held(cli)
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} held posts")
