"""Moderation by replying to a held-post notice, end to end: SMTP into the real daemon, DKIM/DMARC checked against
the loopback DNS server, decisions through listserv.moderation with audit rows naming the moderator."""

from __future__ import annotations

import asyncio
import json
from email.utils import formatdate, make_msgid

from listserv.addresses import split
from tests.dkim_keys import SigningKey
from tests.e2e.helpers import LIST, held, make_list, message, parsed, send

MOD = "lee@agency.example"  # a moderator whose domain publishes p=reject and signs (agency_key)
STRANGER = "zed@stranger.example"


async def _setup(cli, *settings: tuple[str, str]) -> None:
    await make_list(cli, (MOD, "--name", "Lee", "--role", "moderator"))
    for key, value in settings:
        assert (await cli("lists", "set", LIST, key, value)).exit_code == 0


async def _hold(server, sink, cli, sender: str = STRANGER, subject: str = "Question about a motion") -> tuple[int, str]:
    """Send a post that is held; returns (held id, the Reply-To of the notice the moderator got)."""
    before = len(sink.copies_for(MOD))
    await send(server.port, message(sender, subject, "Please help with this case."), sender)
    await sink.wait_for(lambda: len(sink.copies_for(MOD)) > before)
    notice = parsed(sink.copies_for(MOD)[-1])
    waiting = await held(cli)
    return waiting[-1]["id"], str(notice["Reply-To"])


def _reply(sender: str, to: str, body: str, subject: str = "Re: team@example.org: post held") -> bytes:
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Date: {formatdate()}",
             f"Message-ID: {make_msgid(domain='agency.example')}"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n") + "\r\n").encode()


async def _answer(sink, to: str, count: int = 1) -> str:
    """The text of the count-th answer (From: team-request@) the address got."""
    def answers():
        return [parsed(raw) for raw in sink.copies_for(to) if "team-request@" in str(parsed(raw)["From"])]
    await sink.wait_for(lambda: len(answers()) >= count)
    return answers()[count - 1].get_body(("plain",)).get_content()


async def _show(cli, held_id: int) -> dict:
    return json.loads((await cli("held", "show", str(held_id), "--json")).output)


async def _audit(cli, action: str) -> list[dict]:
    result = await cli("audit", "ls", LIST, "--action", action, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


async def _settled(cli, held_id: int) -> dict:
    for _ in range(200):
        shown = await _show(cli, held_id)
        if shown["decision"] is not None:
            return shown
        await asyncio.sleep(0.05)
    raise AssertionError(f"held {held_id} was never decided")


async def test_the_notice_carries_a_moderation_reply_to(server, sink, cli, agency_key):
    """The held notice's Reply-To is team-confirm+TOKEN@ (one token per held post) and the text says one may reply."""
    await _setup(cli)
    held_id, reply_to = await _hold(server, sink, cli)
    found = split(reply_to)
    assert found.role == "confirm" and len(found.extra) == 32 and found.list_address == LIST
    text = parsed(sink.copies_for(MOD)[-1]).get_body(("plain",)).get_content()
    assert "approve   or   reject REASON   or   discard" in text and f"Held ID:   {held_id}" in text
    _, other = await _hold(server, sink, cli, subject="Another")
    assert other != reply_to


async def test_approve_by_reply_delivers_and_audits_the_moderator(server, sink, cli, agency_key):
    """A signed "approve" reply from a moderator sends the post to the members; the audit row and the held row
    name the moderator; the moderator is told; the token then works no more (a replay is told who decided)."""
    await _setup(cli)
    held_id, reply_to = await _hold(server, sink, cli)
    await send(server.port, agency_key.sign(_reply(MOD, reply_to, "Approve\n\n> A post to team@example.org")), MOD,
               [reply_to])
    await sink.wait_for(lambda: sink.copies_for("bob@example.org"))
    assert b"Please help with this case." in sink.copies_for("bob@example.org")[0]
    shown = await _settled(cli, held_id)
    assert (shown["decision"], shown["decided_by"]) == ("approved", MOD)
    assert [(row["actor"], row["object"]) for row in await _audit(cli, "approve")] == [(MOD, f"held:{held_id}")]
    assert f"Held message {held_id} on {LIST} is approved" in await _answer(sink, MOD)
    await send(server.port, agency_key.sign(_reply(MOD, reply_to, "discard")), MOD, [reply_to])
    assert f"was already approved by {MOD}" in await _answer(sink, MOD, 2)
    assert (await _show(cli, held_id))["decision"] == "approved"
    assert len(sink.copies_for("bob@example.org")) == 1


async def test_reject_by_reply_tells_a_member_why(server, sink, cli, agency_key):
    """"reject REASON" from a moderator refuses a moderated member's post; the member gets the reason; audit names
    the moderator."""
    await _setup(cli)
    assert (await cli("members", "set", LIST, "cy@example.org", "moderated", "true")).exit_code == 0
    held_id, reply_to = await _hold(server, sink, cli, sender="Cy <cy@example.org>")
    await send(server.port, agency_key.sign(_reply(MOD, reply_to, "reject Please ask off list.")), MOD, [reply_to])
    shown = await _settled(cli, held_id)
    assert (shown["decision"], shown["decided_by"], shown["decision_reason"]) == ("rejected", MOD, "Please ask off list.")
    await sink.wait_for(lambda: any(b"Please ask off list." in raw for raw in sink.copies_for("cy@example.org")))
    assert [row["actor"] for row in await _audit(cli, "reject")] == [MOD]
    assert "rejected; the sender was told why" in await _answer(sink, MOD)
    assert not sink.copies_for("bob@example.org")


async def test_discard_by_subject_drops_silently(server, sink, cli, agency_key):
    """"discard" as the Subject (empty body) drops the post: nobody else hears of it; audit names the moderator."""
    await _setup(cli)
    held_id, reply_to = await _hold(server, sink, cli)
    await send(server.port, agency_key.sign(_reply(MOD, reply_to, "", subject="discard")), MOD, [reply_to])
    shown = await _settled(cli, held_id)
    assert (shown["decision"], shown["decided_by"]) == ("discarded", MOD)
    assert [row["actor"] for row in await _audit(cli, "discard")] == [MOD]
    assert "discarded; nobody was told" in await _answer(sink, MOD)
    assert not sink.copies_for(STRANGER) and not sink.copies_for("bob@example.org")


async def test_a_forged_moderator_reply_decides_nothing(server, sink, cli, agency_key):
    """An unsigned "approve" in the p=reject moderator's name fails DMARC: held as unauthenticated, the post stays
    undecided, nobody is answered — also on a list that accepts unauthenticated posts."""
    await _setup(cli, ("unauthenticated_posts", "accept"))
    held_id, reply_to = await _hold(server, sink, cli)
    notices = len(sink.copies_for(MOD))
    await send(server.port, _reply(MOD, reply_to, "approve"), "attacker@elsewhere.example", [reply_to])
    for _ in range(200):
        waiting = await held(cli)
        if len(waiting) == 2:
            break
        await asyncio.sleep(0.05)
    assert waiting[0]["id"] == held_id and waiting[1]["reasons"][0]["rule"] == "unauthenticated"
    assert (await _show(cli, held_id))["decision"] is None
    await sink.wait_for(lambda: len(sink.copies_for(MOD)) > notices)  # the notice of the held forgery, nothing else
    assert all("team-request@" not in str(parsed(raw)["From"]) for raw in sink.copies_for(MOD))
    assert not sink.copies_for("bob@example.org")


async def test_a_member_who_is_no_moderator_is_refused(server, sink, cli, agency_key):
    """bob (a plain member) replying "approve" changes nothing and is told only moderators may decide."""
    await _setup(cli)
    held_id, reply_to = await _hold(server, sink, cli)
    await send(server.port, _reply("bob@example.org", reply_to, "approve"), "bob@example.org", [reply_to])
    assert f"Only the moderators and owners of {LIST} may decide held message {held_id}" in await _answer(
        sink, "bob@example.org")
    assert (await _show(cli, held_id))["decision"] is None
    assert not await _audit(cli, "approve")


async def test_a_stranger_nobody_vouches_for_gets_no_answer(server, sink, cli, agency_key):
    """A non-member whose domain publishes no DMARC replying "approve" changes nothing and gets no answer
    (no backscatter); the moderator's own reply afterwards still works (the token was not used up)."""
    await _setup(cli)
    held_id, reply_to = await _hold(server, sink, cli)
    await send(server.port, _reply("eve@nodmarc.example", reply_to, "approve"), "eve@nodmarc.example", [reply_to])
    await send(server.port, agency_key.sign(_reply(MOD, reply_to, "discard")), MOD, [reply_to])
    assert (await _settled(cli, held_id))["decided_by"] == MOD
    assert not sink.copies_for("eve@nodmarc.example")


async def test_an_unknown_command_is_explained_and_changes_nothing(server, sink, cli, agency_key):
    """A reply whose first own line is no decision is answered with the three choices; the token still works."""
    await _setup(cli)
    held_id, reply_to = await _hold(server, sink, cli)
    await send(server.port, agency_key.sign(_reply(MOD, reply_to, "Looks fine to me\n> approve")), MOD, [reply_to])
    assert "did not start with approve, reject REASON or discard" in await _answer(sink, MOD)
    assert (await _show(cli, held_id))["decision"] is None
    await send(server.port, agency_key.sign(_reply(MOD, reply_to, "approve")), MOD, [reply_to])
    assert (await _settled(cli, held_id))["decision"] == "approved"


async def test_an_altered_token_is_refused(server, sink, cli, agency_key):
    """A reply to a moderation address whose token was altered is told it is not valid; nothing changes."""
    await _setup(cli)
    held_id, reply_to = await _hold(server, sink, cli)
    local, _, domain = reply_to.partition("@")
    altered = f"{local[:-1]}{'0' if local[-1] != '0' else '1'}@{domain}"
    await send(server.port, agency_key.sign(_reply(MOD, altered, "approve")), MOD, [altered])
    assert f"is not a valid moderation address of {LIST}" in await _answer(sink, MOD)
    assert (await _show(cli, held_id))["decision"] is None


async def test_a_confidential_post_stays_masked(server, sink, cli, agency_key):
    """For a confidential held post neither the notice nor the answer to the moderator holds its subject or body."""
    await _setup(cli)
    subject = "[CONFIDENTIAL] Client Smith mitigation"
    held_id, reply_to = await _hold(server, sink, cli, subject=subject)
    await send(server.port, agency_key.sign(_reply(MOD, reply_to, "reject not here")), MOD, [reply_to])
    await _answer(sink, MOD)
    for raw in sink.copies_for(MOD):
        assert b"Smith" not in raw and b"Please help with this case" not in raw
    assert (await _settled(cli, held_id))["decision"] == "rejected"


async def test_approving_held_command_mail_is_refused(server, sink, cli, agency_key):
    """A forged reply, itself held at -confirm, gets a notice with its own reply address; "approve" there is refused
    in the CLI's words (only posts and -owner mail can be approved) and nothing changes; "discard" works."""
    await _setup(cli)
    _, reply_to = await _hold(server, sink, cli)
    notices = len(sink.copies_for(MOD))
    await send(server.port, _reply(MOD, reply_to, "approve"), "attacker@elsewhere.example", [reply_to])
    await sink.wait_for(lambda: len(sink.copies_for(MOD)) > notices)
    forged_id = (await held(cli))[-1]["id"]
    forged_reply_to = str(parsed(sink.copies_for(MOD)[-1])["Reply-To"])
    await send(server.port, agency_key.sign(_reply(MOD, forged_reply_to, "approve")), MOD, [forged_reply_to])
    text = await _answer(sink, MOD)
    assert f"Held message {forged_id} came to the -confirm address; only posts and -owner mail can be approved" in text
    assert (await _show(cli, forged_id))["decision"] is None
    await send(server.port, agency_key.sign(_reply(MOD, forged_reply_to, "discard")), MOD, [forged_reply_to])
    assert (await _settled(cli, forged_id))["decided_by"] == MOD


async def test_a_stranger_whose_dmarc_passes_is_told(server, sink, cli, agency_key, dns):
    """A non-member whose domain's DMARC vouches for the From: (a signed reply) is told only moderators may decide;
    nothing changes."""
    await _setup(cli)
    held_id, reply_to = await _hold(server, sink, cli)
    dns.zone.add("_dmarc.press.example", "TXT", "v=DMARC1; p=none")
    press = SigningKey("press.example")
    press.publish(dns.zone)
    await send(server.port, press.sign(_reply("kim@press.example", reply_to, "approve")), "kim@press.example",
               [reply_to])
    assert f"Only the moderators and owners of {LIST} may decide held message {held_id}" in await _answer(
        sink, "kim@press.example")
    assert (await _show(cli, held_id))["decision"] is None
