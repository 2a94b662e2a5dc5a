"""Who sent it, as a mail program shows it: hostile From headers over loopback SMTP to the real daemon.

The sender is the angle-addr of the one mailbox of the one From: header; a
display name, decoded or not, never changes it; anything else is ambiguous
and held, never taken for a member, neither for a post nor for a command.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.e2e.helpers import LIST, held, make_list, parsed, send

REQUEST = "team-request@example.org"
CRLF_NAME = "=?utf-8?q?Ann=0D=0ABcc:_bob@example.org?= <ann@example.org>"


def _post(*from_values: str, subject: str = "Hello", to: str = LIST, body: str = "Hello list.") -> bytes:
    lines = [f"From: {value}" for value in from_values]
    lines += [f"To: {to}", f"Subject: {subject}", "Message-ID: <{}@example.com>".format(abs(hash(from_values)))]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def _post_copies(sink) -> list[str]:
    """Who got a copy of a post (the owner ann gets only the notice that something is held)."""
    return [address for address in sink.recipients() if address != "ann@example.org"]


async def _held_rows(cli, count: int = 1) -> list[dict]:
    """The held posts, once at least count are there."""
    for _ in range(200):
        rows = await held(cli)
        if len(rows) >= count:
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError("nothing was held")


@pytest.mark.parametrize("value", ["ann@example.org <evil@x.example>", "ann@example.org)<evil@x.example>",
                                   '"ann@example.org" <EVIL@x.example>', "ann@example.org (evil) <evil@x.example>"])
async def test_the_angle_addr_is_the_sender_not_the_display_name(server, sink, cli, value):
    """A member's address as a display name does not make the post hers: held as evil's, a non-member's."""
    await make_list(cli)
    await send(server.port, _post(value), "ann@example.org")
    [row] = await _held_rows(cli)
    assert row["sender"] == "evil@x.example" and [r["rule"] for r in row["reasons"]] == ["nonmember"]
    await asyncio.sleep(0.3)
    assert _post_copies(sink) == []


@pytest.mark.parametrize("values", [
    ("ann@example.org", "evil@x.example"),
    ("ann@example.org", "ann@example.org"),
    ("ann@example.org, bob@example.org",),
    ("ann@example.org; evil@x.example",),
    ("Ann <ann@example.org> <evil@x.example>",),
    ("team: ann@example.org;",),
    ("Ann <ann@example.org",),
    ('"ann"@example.org',),
], ids=["two-headers", "same-twice", "two-addresses", "semicolon", "two-angle-addrs", "group", "unclosed",
        "quoted-local-part"])
async def test_ambiguous_from_is_held_whatever_the_nonmember_action(server, sink, cli, values):
    """Two From headers, several addresses, two angle-addrs, a group, no usable address: held as ambiguous,
    even on a list that discards non-members, and nobody gets a copy."""
    await make_list(cli)
    assert (await cli("lists", "set", LIST, "nonmember_action", "discard")).exit_code == 0
    await send(server.port, _post(*values), "ann@example.org")
    [row] = await _held_rows(cli)
    assert row["sender"] == "" and [r["rule"] for r in row["reasons"]] == ["ambiguous_sender"]
    assert row["reasons"][0]["text"].startswith("ambiguous sender: ")
    await asyncio.sleep(0.3)
    assert _post_copies(sink) == []


async def test_an_encoded_line_break_in_the_name_changes_nothing(server, sink, cli):
    """A display name that decodes to CR LF and a Bcc: is only a name: the post is ann's, no header injected."""
    await make_list(cli)
    await send(server.port, _post(CRLF_NAME), "ann@example.org")
    await sink.wait_for(lambda: sink.copies_for("bob@example.org") and sink.copies_for("cy@example.org"))
    copy = parsed(sink.copies_for("bob@example.org")[0])
    assert copy.get_all("Bcc") is None and await held(cli) == []
    archived = json.loads((await cli("archive", "search", LIST, "Hello", "--json")).output)
    assert [row["sender"] for row in archived] == ["ann@example.org"]


async def _command(server, raw: bytes, mail_from: str) -> None:
    await send(server.port, raw, mail_from, recipients=(REQUEST,))


async def test_commands_run_as_the_angle_addr_and_never_for_an_ambiguous_from(server, sink, cli):
    """A command from an encoded-CRLF name runs as ann; one from an ambiguous From runs as nobody, answers nobody."""
    await make_list(cli)
    await _command(server, _post(CRLF_NAME, to=REQUEST, subject="", body="set delivery digest"), "ann@example.org")
    await sink.wait_for(lambda: sink.copies_for("ann@example.org"))
    assert "Your delivery is now digest." in parsed(sink.copies_for("ann@example.org")[0]).get_content()
    hostile = _post("bob@example.org, ann@example.org", to=REQUEST, subject="", body="set delivery nomail")
    await _command(server, hostile, "bob@example.org")
    await _command(server, _post("cy@example.org", to=REQUEST, subject="", body="help"), "cy@example.org")
    await sink.wait_for(lambda: sink.copies_for("cy@example.org"))
    await asyncio.sleep(0.3)
    assert len(sink.copies_for("ann@example.org")) == 1 and sink.copies_for("bob@example.org") == []
    members = {m["address"]: m for m in json.loads((await cli("members", "ls", LIST, "--json")).output)}
    assert (members["ann@example.org"]["delivery"], members["bob@example.org"]["delivery"]) == ("digest", "regular")
