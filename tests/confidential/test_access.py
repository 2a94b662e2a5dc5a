"""Leak matrix, archive rows: search as nobody, as a non-entitled or entitled member, and as an audited moderator."""

from __future__ import annotations

import pytest

from listserv import audit
from listserv.archive import access
from listserv.errors import NoSuchMember, NoSuchPost, NotAllowed, UsageError

from .conftest import NOT_ENTITLED, TEAM, compose, leaked, secret


@pytest.fixture
async def archive(store, team, submit):
    """One confidential post (archive:1) and one ordinary post (archive:2) that both mention 'memo'."""
    await submit(secret("c1@example.org"))
    await submit(compose("Memo template", "A public memo template.\n", "o1@example.org"))
    return team


async def test_search_without_a_reader_leaves_confidential_posts_out(store, archive):
    """Nobody named: the ordinary post is found, the confidential one is not (not even its subject words)."""
    found = await access.search(store, TEAM, "Zanzibarian OR memo")
    assert [row["id"] for row in found] == [2] and found[0]["confidential"] is False
    assert await access.search(store, TEAM, "Quillfeather") == []


async def test_search_as_a_non_entitled_member(store, archive):
    """Row 'non-entitled': --as nina finds only the ordinary post; no audit row."""
    found = await access.search(store, TEAM, "Zanzibarian OR memo", as_address=NOT_ENTITLED)
    assert [row["id"] for row in found] == [2]
    assert all(leaked(row["subject"] + row["snippet"]) == [] for row in found)
    assert await audit.entries(store, TEAM, action=access.READ) == []


async def test_search_as_an_entitled_member(store, archive):
    """Row 'entitled': --as bob finds the confidential post with its snippet; the read is audited on bob's behalf."""
    found = await access.search(store, TEAM, "Zanzibarian", as_address="bob@example.org", by="operator")
    assert [row["id"] for row in found] == [1] and found[0]["confidential"] is True
    assert "Zanzibarian" in leaked(found[0]["snippet"])
    [entry] = await audit.entries(store, TEAM, action=access.READ)
    assert (entry["actor"], entry["object"], entry["detail"]) == ("operator", "archive:1", "search as bob@example.org")


async def test_search_by_a_moderator_is_audited(store, archive):
    """Row 'moderator': --include-confidential --by mod finds it; one audit row per confidential result."""
    found = await access.search(store, TEAM, "Zanzibarian OR memo", moderator="mod@example.org")
    assert sorted(row["id"] for row in found) == [1, 2]
    [entry] = await audit.entries(store, TEAM, action=access.READ)
    assert (entry["actor"], entry["object"], entry["detail"]) == ("mod@example.org", "archive:1", "search as moderator")
    assert leaked(str(entry)) == []  # the audit names the post, never its words (nor the query)


async def test_a_plain_member_is_no_moderator(store, archive):
    """--include-confidential --by a plain member (or a stranger) is refused."""
    for who in ("bob@example.org", "x@elsewhere.example"):
        with pytest.raises(NotAllowed, match="not a moderator"):
            await access.search(store, TEAM, "Zanzibarian", moderator=who)


async def test_reader_errors(store, archive):
    """--as a stranger is NoSuchMember; --as with --by a moderator together is a usage error."""
    with pytest.raises(NoSuchMember):
        await access.search(store, TEAM, "memo", as_address="x@elsewhere.example")
    with pytest.raises(UsageError, match="not both"):
        await access.search(store, TEAM, "memo", as_address="bob@example.org", moderator="mod@example.org")


async def test_show_a_confidential_post(store, archive):
    """archive show: refused without a reader, refused for nina, given to bob and to the moderator, each audited."""
    with pytest.raises(NotAllowed, match="confidential"):
        await access.post(store, 1)
    with pytest.raises(NotAllowed):
        await access.post(store, 1, as_address=NOT_ENTITLED)
    assert "Zanzibarian" in leaked((await access.post(store, 1, as_address="bob@example.org"))["raw"])
    assert (await access.post(store, 1, moderator="olga@example.org"))["confidential"] is True
    assert (await access.post(store, 2))["confidential"] is False
    assert len(await audit.entries(store, TEAM, action=access.READ)) == 2
    with pytest.raises(NoSuchPost):
        await access.post(store, 99)
