"""Email commands end to end: the real daemon over loopback SMTP, the CLI, and the sink as smarthost."""

from __future__ import annotations

import asyncio
import itertools
import json

import aiosmtplib
import pytest

from tests.e2e.helpers import LIST, make_list, message, parsed, send

REQUEST = "team-request@example.org"
CAROL = "carol@example.com"


def mail_for(sink, address: str) -> list:
    """Every message the sink took for address, parsed, in arrival order."""
    return [parsed(raw) for raw in sink.copies_for(address)]


def text(msg) -> str:
    return msg.get_body(("plain",)).get_content()


async def command(server, sender: str, body: str = "", subject: str = "", to: str = REQUEST, mail_from=None,
                  headers: str = "") -> None:
    """Send one command message over SMTP; mail_from '' is the null sender (MAIL FROM:<>)."""
    raw = (f"From: {sender}\nTo: {to}\nSubject: {subject}\n{headers}"
           f"Message-ID: <{next(_IDS)}@example.com>\n\n{body}\n").encode()
    envelope = sender if mail_from is None else mail_from
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=server.port) as client:
        await client.mail(envelope)
        await client.rcpt(to)
        await client.data(raw)


_IDS = itertools.count(1)


async def replies(sink, address: str, count: int) -> list:
    """Wait until address got `count` messages and return them."""
    await sink.wait_for(lambda: len(sink.copies_for(address)) >= count)
    return mail_for(sink, address)


async def _confirmation_token(server, sink) -> str:
    await command(server, CAROL, subject="subscribe")
    [confirmation] = await replies(sink, CAROL, 1)
    return str(confirmation["Subject"]).split()[1]


async def _confirm(server, way: str, token: str, sender: str = CAROL) -> None:
    if way == "reply":
        await command(server, sender, subject=f"Re: confirm {token}", body="> Someone, perhaps you, asked")
    elif way == "confirm-address":
        await command(server, sender, subject="ok", to=f"team-confirm+{token}@example.org")
    else:
        await command(server, sender, subject="yes", body=f"confirm {token}")


@pytest.mark.parametrize("way", ["reply", "confirm-address", "command"])
async def test_subscribe_confirm_pending_approve_then_posts_arrive(server, sink, cli, way):
    """subscribe -> confirmation -> confirm (each way) -> pending -> approved on the CLI -> gets the next post."""
    await make_list(cli)
    token = await _confirmation_token(server, sink)
    await _confirm(server, way, token)
    [_, waiting] = await replies(sink, CAROL, 2)
    assert "waits for a moderator" in text(waiting)
    [notice] = await replies(sink, "ann@example.org", 1)  # ann is the owner
    assert f"listserv members approve {LIST} {CAROL}" in text(notice)
    pending = json.loads((await cli("members", "pending", LIST, "--json")).output)
    assert [row["address"] for row in pending] == [CAROL]
    result = await cli("members", "approve", LIST, CAROL, "--by", "ann@example.org")
    assert result.exit_code == 0, result.output
    [*_, welcome] = await replies(sink, CAROL, 3)
    assert "You are now a member" in text(welcome)
    await send(server.port, message("bob@example.org", "Welcome Carol"), "bob@example.org")
    [*_, post] = await replies(sink, CAROL, 4)
    assert post["Subject"] == "[team] Welcome Carol"


@pytest.mark.parametrize("way", ["reply", "confirm-address", "command"])
async def test_unsubscribe_then_confirm_then_no_more_posts(server, sink, cli, way):
    """unsubscribe -> confirmation -> confirm (each way) -> removed; the next post skips bob."""
    await make_list(cli)
    await command(server, "bob@example.org", subject="unsubscribe")
    confirmation, reply = await replies(sink, "bob@example.org", 2)
    token = str(confirmation["Subject"]).split()[1]
    assert "mailed to you" in text(reply)
    await _confirm(server, way, token, sender="bob@example.org")
    [*_, done] = await replies(sink, "bob@example.org", 3)
    assert "is no longer a member" in text(done)
    members = [m["address"] for m in json.loads((await cli("members", "ls", LIST, "--json")).output)]
    assert "bob@example.org" not in members
    await send(server.port, message("ann@example.org", "After bob"), "ann@example.org")
    await sink.wait_for(lambda: sink.copies_for("cy@example.org"))
    await asyncio.sleep(0.3)
    assert len(sink.copies_for("bob@example.org")) == 3


async def test_forged_subscribe_mails_only_the_person_concerned(server, sink, cli):
    """A stranger subscribing someone else: exactly one message leaves, the confirmation to that person."""
    await make_list(cli)
    await command(server, "mallory@example.net", body=f"subscribe {CAROL}")
    await replies(sink, CAROL, 1)
    await asyncio.sleep(0.5)
    assert sink.recipients() == [CAROL]


async def test_reused_and_tampered_tokens_get_clear_replies(server, sink, cli):
    """A used token says 'used already'; an altered one 'not a valid confirmation'."""
    await make_list(cli)
    token = await _confirmation_token(server, sink)
    await _confirm(server, "command", token)
    await replies(sink, CAROL, 2)
    await _confirm(server, "command", token)
    [*_, reused] = await replies(sink, CAROL, 3)
    assert "This confirmation was used already" in text(reused)
    await _confirm(server, "command", token[::-1])
    [*_, tampered] = await replies(sink, CAROL, 4)
    assert "This is not a valid confirmation for team@example.org" in text(tampered)


async def test_set_commands_change_delivery(server, sink, cli):
    """set delivery nomail stops posts for bob, set ownposts off stops his own copies, regular brings them back."""
    await make_list(cli)
    await command(server, "bob@example.org", body="set delivery nomail")
    await replies(sink, "bob@example.org", 1)
    members = {m["address"]: m for m in json.loads((await cli("members", "ls", LIST, "--json")).output)}
    assert members["bob@example.org"]["delivery"] == "nomail"
    await send(server.port, message("ann@example.org", "One"), "ann@example.org")
    await sink.wait_for(lambda: sink.copies_for("cy@example.org"))
    await command(server, "bob@example.org", body="set delivery regular\nset ownposts off")
    await replies(sink, "bob@example.org", 2)
    await send(server.port, message("bob@example.org", "Two"), "bob@example.org")
    await sink.wait_for(lambda: len(sink.copies_for("cy@example.org")) == 2)
    await send(server.port, message("ann@example.org", "Three"), "ann@example.org")
    await sink.wait_for(lambda: len(sink.copies_for("cy@example.org")) == 3)
    await asyncio.sleep(0.3)
    subjects = [str(m["Subject"]) for m in mail_for(sink, "bob@example.org")]
    assert subjects[2:] == ["[team] Three"]
    await command(server, "bob@example.org", body="set delivery digest")
    await replies(sink, "bob@example.org", 4)
    members = {m["address"]: m for m in json.loads((await cli("members", "ls", LIST, "--json")).output)}
    assert members["bob@example.org"]["delivery"] == "digest"


async def test_who_is_refused_for_a_plain_member_and_robots_get_nothing(server, sink, cli):
    """who from bob is refused; help from the null sender and from an Auto-Submitted robot gets no reply."""
    await make_list(cli)
    await command(server, "bob@example.org", body="who")
    [reply] = await replies(sink, "bob@example.org", 1)
    assert "Only the owners and moderators" in text(reply) and "cy@example.org" not in text(reply)
    await command(server, "cy@example.org", body="help", mail_from="")
    await command(server, "MAILER-DAEMON@example.org", body="help")
    await command(server, "cy@example.org", body="help", headers="Auto-Submitted: auto-replied\n")
    await command(server, "ann@example.org", body="help")
    await sink.wait_for(lambda: sink.copies_for("ann@example.org"))  # a person, sent last: answered
    await asyncio.sleep(0.3)
    assert sink.copies_for("cy@example.org") == [] and sink.copies_for("MAILER-DAEMON@example.org") == []


async def test_search_and_get_by_email_and_a_strangers_search_is_ignored(server, sink, cli):
    """A member searches and gets a post by email; a stranger's search gets no reply."""
    await make_list(cli)
    await send(server.port, message("ann@example.org", "School records", "Juvenile records from the district."),
               "ann@example.org")
    await sink.wait_for(lambda: sink.copies_for("cy@example.org"))
    await command(server, "stranger@example.com", body="search records")
    await command(server, "bob@example.org", body="search juvenile records\nget 1")
    [*_, reply] = await replies(sink, "bob@example.org", 2)
    assert "ann@example.org  School records" in text(reply)
    [attachment] = list(reply.iter_attachments())
    assert attachment.get_content()["Subject"] == "School records"
    await asyncio.sleep(0.3)
    assert sink.copies_for("stranger@example.com") == []
