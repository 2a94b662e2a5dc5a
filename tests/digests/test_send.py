"""Digests on a real store: posts queued in the archive's transaction, issues sent by size, time or command."""

from __future__ import annotations

import time

import pytest

from listserv import digests, lists, moderation
from listserv.errors import NoSuchList
from listserv.outgoing import digest_issue
from listserv.store import digests as store_digests
from listserv.store import held, members
from tests.bounces.helpers import LIST, make_team, parsed, post, queued, submit

DIGEST_READERS = ["dee@example.org", "eve@example.org"]
REGULAR = ["ann@example.org", "bob@example.org", "mod@example.org", "olga@example.org"]


@pytest.fixture
async def team(store):
    return await make_team(store, moderator_notices="off")


def _issues(rows: list[dict]) -> list[dict]:
    return [q for q in rows if q["message"].get_content_type() == "multipart/digest"]


def _enclosed_ids(issue: dict) -> list[str]:
    return [part.get_content()["Message-ID"] for part in list(issue["message"].iter_parts())[1:]]


async def test_posts_wait_for_digest_readers_and_regular_members_are_unaffected(store, settings, team):
    """An accepted post is queued for the digest; regular members get it now; digest readers do not."""
    await submit(store, settings, post(message_id="a@x"))
    [batch] = await queued(store)
    assert batch["recipients"] == REGULAR
    [row] = await store_digests.pending(store.db, team.id)
    assert row["subject"] == "Records request" and row["archive_id"] is not None
    assert b"Received:" not in row["content"] and b"Message-ID: <a@x>" in row["content"]


async def test_nothing_is_queued_when_nobody_reads_digests(store, settings, team):
    """Without digest readers the digest queue stays empty."""
    for address in DIGEST_READERS:
        await store.write(members.update, team.id, address, "delivery", "regular")
    await submit(store, settings, post())
    assert await store_digests.pending(store.db, team.id) == []


async def test_confidential_posts_never_enter_a_digest(store, settings, team):
    """A post to team+confidential@ is not queued; entitled digest readers (dee) get it individually, eve not."""
    await submit(store, settings, post(message_id="secret@x", to="team+confidential@example.org"),
                 rcpts=("team+confidential@example.org",))
    assert await store_digests.pending(store.db, team.id) == []
    recipients = sorted(r for q in await queued(store) for r in q["recipients"])
    assert "dee@example.org" in recipients and "eve@example.org" not in recipients
    assert await digests.send_now(store, settings) == []


async def test_an_issue_carries_each_post_once_in_arrival_order(store, settings, team):
    """Issue 1 carries the posts so far, issue 2 only the later ones; the queue is empty after each."""
    for n in range(3):
        await submit(store, settings, post(message_id=f"p{n}@x", subject=f"topic {n}"))
    [first] = await digests.send_now(store, settings, LIST)
    await submit(store, settings, post(message_id="p3@x", subject="topic 3"))
    [second] = await digests.send_now(store, settings)
    assert (first.volume, first.issue, first.posts, first.recipients) == (1, 1, 3, 2)
    assert (second.issue, second.posts) == (2, 1)
    issues = _issues(await queued(store))
    assert [_enclosed_ids(i) for i in issues] == [["<p0@x>", "<p1@x>", "<p2@x>"], ["<p3@x>"]]
    assert all(i["recipients"] == DIGEST_READERS for i in issues)
    assert await store_digests.pending(store.db, team.id) == []
    assert [row["issue"] for row in await store_digests.issues(store.db, team.id)] == [1, 2]


async def test_an_approved_post_reaches_the_digest_too(store, settings, team):
    """A held post approved by a moderator goes through the same accept path into the digest queue."""
    stranger = "x@stranger.example"
    await submit(store, settings, post(sender=stranger, message_id="held@x"), mail_from=stranger)
    [row] = await held.waiting(store.db)
    await moderation.approve(store, settings, row["id"], by="mod")
    assert [p["subject"] for p in await store_digests.pending(store.db, team.id)] == ["Records request"]


async def test_readers_gone_means_the_queue_is_dropped_without_an_issue(store, settings, team):
    """Everyone switched back to regular delivery: pending posts are dropped, no issue is numbered."""
    await submit(store, settings, post())
    for address in DIGEST_READERS:
        await store.write(members.update, team.id, address, "delivery", "regular")
    assert await digests.send_now(store, settings) == []
    assert await store_digests.pending(store.db, team.id) == [] and await store_digests.issues(store.db, team.id) == []


async def test_send_now_refuses_an_unknown_list(store, settings, team):
    """digests send for a list that does not exist is NoSuchList."""
    with pytest.raises(NoSuchList):
        await digests.send_now(store, settings, "nope@example.org")


async def test_size_threshold_sends_at_the_next_tick(store, settings, team):
    """Past digest_size_threshold kilobytes the periodic job sends; below it, not before digest_time."""
    await lists.set_setting(store, LIST, "digest_time", "")
    await lists.set_setting(store, LIST, "digest_size_threshold", "1")
    await submit(store, settings, post(message_id="small@x", body="short\n"))
    assert await digests.send_due(store, settings, time.time()) == []
    await submit(store, settings, post(message_id="big@x", body="x" * 1200 + "\n"))
    [issue] = await digests.send_due(store, settings, time.time())
    assert issue.posts == 2


async def test_daily_time_sends_posts_queued_before_it(store, settings, team):
    """With digest_time set, posts queued before today's time go at or after it (injected clock), not before."""
    await lists.set_setting(store, LIST, "digest_size_threshold", "0")
    await submit(store, settings, post())
    queued_at = (await store_digests.pending(store.db, team.id))[0]["queued_at"]
    local = time.localtime(queued_at + 3600)
    await lists.set_setting(store, LIST, "digest_time", f"{local.tm_hour:02d}:{local.tm_min:02d}")
    assert await digests.send_due(store, settings, queued_at + 60) == []
    [issue] = await digests.send_due(store, settings, queued_at + 3700)
    assert issue.posts == 1
    assert await digests.send_due(store, settings, queued_at + 3800) == []


async def test_a_list_deleted_meanwhile_is_skipped(store, settings, team, monkeypatch):
    """send_due: a list that disappears between the look at the queue and the send is skipped, not an error."""
    await submit(store, settings, post())

    async def gone(store, list_id):
        raise NoSuchList(f"no such list id: {list_id}")

    monkeypatch.setattr(digests.lists, "get_by_id", gone)
    assert await digests.send_due(store, settings, time.time() + 7 * 86400) == []


async def test_the_cli_sends_pending_digests(store, settings, team, cli):
    """`listserv digests send [LIST]` reports each issue, or says none were pending; --json lists them."""
    await submit(store, settings, post())
    first = await cli("digests", "send", LIST)
    assert first.exit_code == 0 and "sent Vol 1, Issue 1 (1 post) to 2 digest members" in first.output
    again = await cli("digests", "send", "--json")
    assert again.exit_code == 0 and again.output.strip() == "[]"
    assert "no digests pending" in (await cli("digests", "send")).output
    unknown = await cli("digests", "send", "nope@example.org")
    assert unknown.exit_code == 1 and "no such list" in unknown.output


def test_issue_subject_names_volume_and_issue():
    """The digest's Subject names the list, the volume and the issue (parsed back from real bytes)."""
    from tests.pipeline.conftest import mailing_list

    raw = digest_issue.build(mailing_list(), 4, 12, [{"content": b"Subject: x\n\nbody\n", "subject": "x",
                                                  "sender": "a@b.org", "sender_name": ""}])
    assert parsed(raw)["Subject"] == "team Digest, Vol 4, Issue 12"
