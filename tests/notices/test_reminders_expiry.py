"""The daily reminder and the auto-discard of held non-member posts, driven by an injected clock."""

from __future__ import annotations

import time

import pytest

from listserv import expiry, lists, moderation, reminders
from listserv.store import audit, held, members
from tests.bounces.helpers import LIST, make_team, post, queued, submit

DAY = 86400.0
STRANGER = "x@stranger.example"


@pytest.fixture
async def team(store):
    return await make_team(store)


async def _hold_stranger(store, settings, n: int = 0, rcpts=(LIST,), **fields) -> int:
    raw = post(sender=STRANGER, message_id=f"s{n}@x", **fields)
    await submit(store, settings, raw, rcpts=rcpts, mail_from=STRANGER)
    return (await held.waiting(store.db))[-1]["id"]


def _reminders(rows: list[dict]) -> list[dict]:
    return [q for q in rows if q["message"]["Subject"] == f"{LIST}: held posts waiting"]


async def test_a_reminder_lists_what_waited_more_than_a_day(store, settings, team):
    """Nothing before a day has passed; then one reminder to the moderators naming the post and the commands."""
    held_id = await _hold_stranger(store, settings, subject="Records for client")
    now = time.time()
    assert await reminders.remind(store, settings, now + 3600) == 0
    assert await reminders.remind(store, settings, now + DAY + 60) == 1
    [note] = _reminders(await queued(store))
    assert note["recipients"] == ["mod@example.org", "olga@example.org"]
    text = note["message"].get_content()
    assert str(held_id) in text and STRANGER in text and "Records for client" in text and "  1 day  " in text
    assert f"1 held message on {LIST} has waited more than a day:" in text  # in the singular
    assert f"listserv held ls {LIST}" in text


async def test_at_most_one_reminder_a_day(store, settings, team):
    """A second tick the same day sends nothing; a day later another reminder goes out."""
    await _hold_stranger(store, settings)
    now = time.time() + DAY + 60
    assert [await reminders.remind(store, settings, t) for t in (now, now + 3600, now + DAY)] == [1, 0, 1]


async def test_no_reminder_once_decided_or_when_turned_off(store, settings, team):
    """A decided post is not in a reminder; moderator_notices off sends none."""
    held_id = await _hold_stranger(store, settings)
    await moderation.discard(store, held_id, by="mod")
    assert await reminders.remind(store, settings, time.time() + 2 * DAY) == 0
    await _hold_stranger(store, settings, n=1)
    await lists.set_setting(store, LIST, "moderator_notices", "off")
    assert await reminders.remind(store, settings, time.time() + 2 * DAY) == 0


async def test_a_reminder_hides_confidential_subjects(store, settings, team):
    """A confidential held post appears as such in the reminder, without its subject."""
    secret = "team+confidential@example.org"
    await _hold_stranger(store, settings, subject="Client J. Doe", to=secret, rcpts=(secret,))
    await reminders.remind(store, settings, time.time() + 2 * DAY)
    [note] = _reminders(await queued(store))
    assert b"J. Doe" not in note["content"] and "confidential post" in note["message"].get_content()


async def test_held_nonmember_posts_expire_after_the_window(store, settings, team):
    """After hold_expiry_days (14) a held non-member post is discarded by auto-expiry, with an audit row."""
    held_id = await _hold_stranger(store, settings)
    now = time.time()
    assert await expiry.expire_held(store, settings, now + 13 * DAY) == 0
    assert await expiry.expire_held(store, settings, now + 14 * DAY + 60) == 1
    row = await held.get(store.db, held_id)
    assert (row["decision"], row["decided_by"]) == ("discarded", "auto-expiry")
    entry = (await audit.entries(store.db, team.id))[0]
    assert (entry["actor"], entry["action"], entry["object"]) == ("auto-expiry", "discard", f"held:{held_id}")
    assert await expiry.expire_held(store, settings, now + 30 * DAY) == 0  # never twice


async def test_members_posts_and_new_members_do_not_expire(store, settings, team):
    """A moderated member's post waits for a person; so does a stranger's who has joined since."""
    await store.write(members.update, team.id, "ann@example.org", "moderated", 1)
    await submit(store, settings, post(message_id="ann@x"))
    await _hold_stranger(store, settings)
    await store.write(members.add, team.id, {"address": STRANGER})
    assert await expiry.expire_held(store, settings, time.time() + 60 * DAY) == 0
    assert len(await held.waiting(store.db)) == 2


async def test_expiry_zero_keeps_posts(store, settings, team):
    """hold_expiry_days 0: held posts wait until a moderator decides."""
    await lists.set_setting(store, LIST, "hold_expiry_days", "0")
    await _hold_stranger(store, settings)
    assert await expiry.expire_held(store, settings, time.time() + 365 * DAY) == 0


async def test_a_post_decided_meanwhile_is_left_alone(store, settings, team):
    """The discard is conditional: a post approved between the look and the write is not touched."""
    held_id = await _hold_stranger(store, settings)
    await moderation.approve(store, settings, held_id, by="mod")
    mlist = await lists.get(store, LIST)
    assert await store.write(expiry._discard, mlist, [held_id], 14) == 0
    assert (await held.get(store.db, held_id))["decided_by"] == "mod"
