"""Leak matrix end to end: the real daemon over loopback SMTP, the CLI, the sink as smarthost, and every log line.

The log-capture row runs a whole confidential exchange (a tagged post with an
outside Cc, an unmarked reply held, read and approved by a moderator, a
member's search by email, a moderator's archive search, a purge) with the
root logger at DEBUG, aiosmtpd's
`mail.log` and aiosqlite included, and asserts that no log line holds a word
of the confidential subjects or bodies, while the copies prove the words did
travel where they should.
"""

from __future__ import annotations

import asyncio
import json
import logging

from tests.e2e.helpers import send

from .conftest import (
    DIGEST_ENTITLED, DIGEST_NOT_ENTITLED, NOT_ENTITLED, SECRET_WORDS, TEAM, compose, leaked, parsed, reply, secret,
)

ENTITLED_REGULAR = ("ann@example.org", "bob@example.org", "mod@example.org")


async def make_team(cli) -> None:
    """team@example.org over the CLI: ann owner, bob, mod moderator, nina unentitled, dora/dan digest readers."""
    steps = [
        ("lists", "create", TEAM, "--description", "Sentencing advocates"),
        ("members", "add", TEAM, "ann@example.org", "--role", "owner"),
        ("members", "add", TEAM, "bob@example.org"),
        ("members", "add", TEAM, "mod@example.org", "--role", "moderator"),
        ("members", "add", TEAM, NOT_ENTITLED, "--no-confidential"),
        ("members", "add", TEAM, DIGEST_ENTITLED, "--delivery", "digest"),
        ("members", "add", TEAM, DIGEST_NOT_ENTITLED, "--delivery", "digest"),
        ("members", "set", TEAM, DIGEST_NOT_ENTITLED, "confidential", "false"),
    ]
    for step in steps:
        result = await cli(*step)
        assert result.exit_code == 0, result.output


async def settle(sink, count: int) -> None:
    """Wait for at least count deliveries, then a moment more so that nothing unexpected is missed."""
    await sink.wait_for(lambda: len(sink.recipients()) >= count)
    await asyncio.sleep(0.4)


async def test_tagged_post_reaches_only_the_entitled(server, sink, cli):
    """Rows 'tag' and 'unentitled/digest member' over SMTP: copies for the entitled only, tagged and noticed."""
    await make_team(cli)
    await send(server.port, secret("c1@example.org"), "ann@example.org")
    await settle(sink, 4)
    assert sorted(sink.recipients()) == sorted((*ENTITLED_REGULAR, DIGEST_ENTITLED))
    copy = parsed(sink.copies_for("bob@example.org")[0])
    assert copy["Sensitivity"] == "Company-Confidential" and copy["Subject"].startswith("[team] [CONFIDENTIAL]")
    assert "Zanzibarian" in leaked(sink.copies_for(DIGEST_ENTITLED)[0])
    assert (await cli("digests", "send", TEAM)).output.strip() == "no digests pending"


async def test_outside_cc_over_smtp(server, sink, cli):
    """Row 'outside Cc': the outsider is never mailed by the list; the sender and moderators get the notice."""
    await make_team(cli)
    raw = secret("c1@example.org", headers=(("Cc", "reporter@news.example"),))
    await send(server.port, raw, "ann@example.org")
    await settle(sink, 6)
    assert "reporter@news.example" not in sink.recipients()
    notes = [parsed(c) for c in sink.copies_for("mod@example.org") if b"named people outside the list" in c]
    assert len(notes) == 1 and "reporter@news.example" in notes[0].get_content()
    assert leaked(notes[0].as_bytes()) == []
    assert any(b"named people outside the list" in c for c in sink.copies_for("ann@example.org"))


async def test_three_level_chain_over_smtp(server, sink, cli):
    """Row 'three-level chain' over SMTP: unmarked replies to replies stay off nina's and dan's mailboxes."""
    await make_team(cli)
    await send(server.port, secret("c1@example.org"), "ann@example.org")
    await send(server.port, reply("r1@example.org", "c1@example.org", sender="bob@example.org"), "bob@example.org")
    await send(server.port, reply("r2@example.org", "r1@example.org", body="Xylophonic\n"), "ann@example.org")
    await settle(sink, 12)
    assert NOT_ENTITLED not in sink.recipients() and DIGEST_NOT_ENTITLED not in sink.recipients()
    assert len(sink.copies_for(DIGEST_ENTITLED)) == 3


async def test_held_confidential_post_on_the_command_line(server, sink, cli):
    """Moderation row: `held ls` flags it and hides its subject; `held show` shows the body only with --body (audited)."""
    await make_team(cli)
    await cli("members", "set", TEAM, "bob@example.org", "moderated", "true")
    await send(server.port, secret("c1@example.org", sender="bob@example.org"), "bob@example.org")
    rows = await _held(cli)
    assert rows[0]["confidential"] is True and rows[0]["subject"] == "(confidential)"
    table = (await cli("held", "ls")).output
    assert leaked(table) == [] and "(confidential)" in table
    plain = await cli("held", "show", str(rows[0]["id"]))
    assert plain.exit_code == 0 and leaked(plain.output) == [] and "--body" in plain.output
    full = await cli("held", "show", str(rows[0]["id"]), "--body", "--by", "mod@example.org")
    assert set(leaked(full.output)) == set(SECRET_WORDS)
    audit = json.loads((await cli("audit", "ls", TEAM, "--json", "--action", "read-confidential")).output)
    assert [(a["actor"], a["object"]) for a in audit] == [("mod@example.org", f"held:{rows[0]['id']}")]


async def test_no_log_line_carries_confidential_text(server, sink, cli, caplog):
    """Row 'log capture': DEBUG everywhere during a confidential exchange; not one log line holds its words."""
    caplog.set_level(logging.DEBUG)
    for name in ("mail.log", "aiosqlite", "asyncio", "listserv"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    await make_team(cli)
    await cli("members", "set", TEAM, "bob@example.org", "moderated", "true")
    await send(server.port, secret("c1@example.org", headers=(("Cc", "reporter@news.example"),)), "ann@example.org")
    await send(server.port, reply("r1@example.org", "c1@example.org", sender="bob@example.org",
                                  body="Zanzibarian Xylophonic\n"), "bob@example.org")
    [waiting] = await _held(cli)
    assert (await cli("held", "show", str(waiting["id"]), "--body", "--by", "mod@example.org")).exit_code == 0
    assert (await cli("held", "approve", str(waiting["id"]), "--by", "mod@example.org")).exit_code == 0
    await settle(sink, 10)
    request = compose("search Zanzibarian", "search Xylophonic\n", "q1@example.org", to="team-request@example.org")
    await send(server.port, request, "ann@example.org", ["team-request@example.org"])
    await sink.wait_for(lambda: any(b"Xylophonic" in c and b"match" in c for c in sink.copies_for("ann@example.org")))
    found = await cli("archive", "search", TEAM, "conviction", "--include-confidential", "--by", "mod@example.org")
    assert "Quillfeather" in found.output  # the moderator did read it
    assert (await cli("lists", "set", TEAM, "confidential_archive", "none")).exit_code == 0
    assert "purged 2 archived" in (await cli("archive", "purge", TEAM)).output
    assert "Zanzibarian" in leaked(sink.copies_for("bob@example.org")[0])  # the words did travel
    assert len(caplog.records) > 100  # the capture really saw the DEBUG chatter
    lines = [logging.Formatter("%(name)s %(message)s").format(record) for record in caplog.records]
    assert [line for line in lines if leaked(line)] == []
    assert any(line.startswith("aiosqlite ") for line in lines) and any(line.startswith("mail.log") for line in lines)


async def _held(cli, count: int = 1, timeout: float = 10.0) -> list[dict]:
    for _ in range(int(timeout / 0.05)):
        result = await cli("held", "ls", "--json")
        rows = json.loads(result.output)
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} held posts")
