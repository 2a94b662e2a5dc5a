"""A long chain of replies on a thread page: indented by reply depth up to a cap, so a phone still has room."""

from __future__ import annotations

import re

import pytest

from listserv.store import search_index
from listserv.web.archive import THREAD_DEPTH
from tests.confidential.conftest import TEAM, reply

CHAIN = 12  # replies, each to the one before, under the memo (o1@example.org, archive:2)


@pytest.fixture
async def archive(archive, submit):
    """The web archive and a chain of CHAIN replies under the memo: archive:3 answers it, archive:4 answers 3 ..."""
    parent, refs = "o1@example.org", ["<o1@example.org>"]
    for n in range(1, CHAIN + 1):
        await submit(reply(f"chain{n}@example.org", parent, refs=" ".join(refs), body=f"Step {n}.\n"))
        parent = f"chain{n}@example.org"
        refs.append(f"<{parent}>")
    return archive


async def test_indentation_follows_the_replies_and_stops_at_the_cap(site):
    """The thread page indents each reply one level under its parent, and the deeper ones all at THREAD_DEPTH."""
    thread = (await search_index.fields(site.daemon.store.db, 2))["thread_id"]
    async with site.client() as client:
        await site.login(client, "ann@example.org")
        page = await client.get(f"/lists/{TEAM}/threads/{thread}")
    depths = [int(depth) for depth in re.findall(r'<li class="d(\d+)[^"]*" id="post-\d+">', page.text)]
    assert depths == [min(n, THREAD_DEPTH) for n in range(CHAIN + 1)]
    assert THREAD_DEPTH < CHAIN and f"Step {CHAIN}." in page.text
