"""The archive end to end: posts over SMTP to the real daemon are threaded, searchable, shown and exported."""

from __future__ import annotations

import asyncio
import json

from tests.conftest import mbox_messages
from tests.e2e.helpers import LIST, MEMBERS, make_list, message, send


async def _search(cli, query: str, *options: str) -> list[dict]:
    result = await cli("archive", "search", LIST, query, "--json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


async def _wait_archived(cli, query: str, count: int) -> list[dict]:
    for _ in range(200):
        found = await _search(cli, query)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} posts matching {query!r} never reached the archive")


async def test_a_conversation_over_smtp_is_one_thread_in_the_archive(server, sink, cli, tmp_path):
    """A question and a reply (sent out of order) land in one thread; search, show, thread and export agree."""
    await make_list(cli)
    question = message("ann@example.org", "Mitigation psychologist in Ohio", "Who testifies on adolescent trauma?",
                       Message_ID="<q1@example.org>")
    reply = message("bob@example.org", "Re: [team] Mitigation psychologist in Ohio", "Dr. Lane, trauma specialist.",
                    Message_ID="<r1@example.org>", In_Reply_To="<q1@example.org>", References="<q1@example.org>")
    await send(server.port, reply, "bob@example.org")  # the reply first: its parent arrives later
    await _wait_archived(cli, "Lane", 1)
    await send(server.port, question, "ann@example.org")
    found = await _wait_archived(cli, "trauma", 2)
    assert {row["message_id"] for row in found} == {"q1@example.org", "r1@example.org"}
    assert len({row["thread_id"] for row in found}) == 1
    thread = json.loads((await cli("archive", "thread", str(found[0]["thread_id"]), "--json")).output)
    assert [(row["depth"], row["message_id"]) for row in thread["tree"]] == [(0, "q1@example.org"), (1, "r1@example.org")]
    assert thread["subject"] == "Mitigation psychologist in Ohio"  # stored without the list prefix
    (asked,) = [row for row in found if row["message_id"] == "q1@example.org"]
    shown = (await cli("archive", "show", str(asked["id"]))).output
    assert "Who testifies on adolescent trauma?" in shown and "From: ann@example.org" in shown
    out = tmp_path / "team.mbox"
    assert (await cli("archive", "export", LIST, str(out))).exit_code == 0
    assert sorted(m["Message-ID"] for m in mbox_messages(out)) == ["<q1@example.org>", "<r1@example.org>"]
    await sink.wait_for(lambda: len(sink.recipients()) >= 2 * len(MEMBERS))
