"""Bounce scores on a real store: once a day, decay, the threshold stopping delivery, failures at delivery time."""

from __future__ import annotations

import time

import pytest

from listserv import bounces, lists
from listserv.errors import NoSuchList
from listserv.store import audit, members, outbound
from listserv.store import bounces as store_bounces
from tests.bounces.helpers import LIST, post, queued, submit

DAY = 86400.0
NOON = time.mktime((2026, 3, 10, 12, 0, 0, 0, 0, -1))  # a fixed local noon: day arithmetic stays on whole days


async def _record(store, settings, mlist, address, now, source="bounce message"):
    return await store.write(bounces.record, settings, mlist, address, now, source)


async def _member(store, mlist, address):
    return await store_bounces.member(store.db, mlist.id, address)


@pytest.mark.parametrize("score, age_days, half_life, expected", [
    (1.0, 0, 7, 1.0), (4.0, 7, 7, 2.0), (4.0, 21, 7, 0.5), (3.0, 100, 0, 3.0), (1.0, 70, 7, 0.0), (0.0, 1, 7, 0.0),
])
def test_scores_halve_every_half_life(score, age_days, half_life, expected):
    """A score halves every bounce_decay_days; 0 days means it never decays; a tiny score is zero."""
    assert bounces.decayed(score, 0.0, age_days * DAY, half_life) == pytest.approx(expected)


async def test_one_bounce_counts_per_day(store, settings, team):
    """Two bounces on one day raise the score once; the next day's bounce counts, after decay."""
    assert await _record(store, settings, team, "bob@example.org", NOON) == "counted"
    assert await _record(store, settings, team, "bob@example.org", NOON + 3600) == "already counted today"
    assert (await _member(store, team, "bob@example.org"))["bounce_score"] == 1.0
    assert await _record(store, settings, team, "bob@example.org", NOON + DAY) == "counted"
    row = await _member(store, team, "bob@example.org")
    assert row["bounce_score"] == pytest.approx(1 + 0.5 ** (1 / 7))
    assert row["bounce_last_at"] == row["bounce_updated_at"] == NOON + DAY


async def test_a_non_member_is_not_counted(store, settings, team):
    """A bounce naming someone who is not a member changes nothing."""
    assert await _record(store, settings, team, "stranger@example.com", NOON) == "not a member"
    assert [e for e in await audit.entries(store.db, team.id) if e["action"] != lists.CREATE] == []


async def test_past_the_threshold_delivery_stops_and_both_are_told(store, settings, team):
    """At bounce_threshold the member goes nomail (bounce_disabled_at set), is told, and the owners are told."""
    mlist = await lists.set_setting(store, LIST, "bounce_threshold", "3")
    results = [await _record(store, settings, mlist, "bob@example.org", NOON + n * DAY) for n in range(4)]
    assert results == ["counted", "counted", "counted", "disabled"]  # 1, 1.9, 2.7, 3.5 with a 7-day half-life
    row = await _member(store, mlist, "bob@example.org")
    assert row["delivery"] == "nomail" and row["bounce_disabled_at"] == NOON + 3 * DAY
    notes = {tuple(q["recipients"]): q["message"] for q in await queued(store)}
    member_note = notes[("bob@example.org",)]
    assert "stopped" in member_note["Subject"] and "set delivery regular" in member_note.get_content()
    owner_note = notes[("olga@example.org",)]
    assert f"listserv members set {LIST} bob@example.org delivery regular" in owner_note.get_content()
    assert owner_note["To"] == "team-owner@example.org" and owner_note["Auto-Submitted"] == "auto-generated"
    actions = [(e["action"], e["object"]) for e in await audit.entries(store.db, mlist.id)]
    assert ("disable", "member:bob@example.org") in actions


async def test_a_stopped_member_gets_no_more_posts(store, settings, team):
    """Once bounce processing stopped a member's delivery, the next post is not queued for them."""
    mlist = await lists.set_setting(store, LIST, "bounce_threshold", "1")
    assert await _record(store, settings, mlist, "bob@example.org", time.time()) == "disabled"
    await submit(store, settings, post(message_id="after@example.org"))
    post_batches = [q for q in await queued(store) if q["message"]["Message-ID"] == "<after@example.org>"]
    assert post_batches and all("bob@example.org" not in q["recipients"] for q in post_batches)


async def test_no_second_notice_when_already_nomail(store, settings, team):
    """A member already on nomail is scored but not 'disabled' again, and nobody is told twice."""
    mlist = await lists.set_setting(store, LIST, "bounce_threshold", "1")
    await store.write(members.update, mlist.id, "bob@example.org", "delivery", "nomail")
    assert await _record(store, settings, mlist, "bob@example.org", NOON) == "counted"
    assert await queued(store) == []


async def test_threshold_zero_never_stops_delivery(store, settings, team):
    """bounce_threshold 0: scores grow, delivery never stops."""
    mlist = await lists.set_setting(store, LIST, "bounce_threshold", "0")
    for n in range(8):
        await _record(store, settings, mlist, "bob@example.org", NOON + n * DAY)
    assert (await _member(store, mlist, "bob@example.org"))["delivery"] == "regular"


@pytest.mark.parametrize("code, text, alike, counts", [
    (550, "5.1.1 <bob@example.org>: Recipient address rejected: User unknown", 1, True),
    (552, "5.2.2 mailbox full", 1, True),
    (550, "5.4.1 no route", 1, True),
    (554, "5.7.1 message rejected as spam", 1, False),
    (552, "5.3.4 message too big", 1, False),
    (550, "5.6.0 content refused", 1, False),
    (550, "User unknown", 2, True),
    (554, "Transaction failed", 3, False),
    (451, "4.3.0 try later", 1, False),
    (0, "gave up after 432000s; last: cannot connect", 1, False),
])
def test_which_delivery_failures_count(code, text, alike, counts):
    """Only 5xx that blame the address count; policy/content refusals and refusals of a whole message do not."""
    assert bounces.counts_as_bounce(code, text, alike) is counts


async def test_delivery_failures_are_counted_once(store, settings, team):
    """Permanent failures recorded by delivery count as bounces, each row only once; others are only marked."""
    failures = [("bob@example.org", 550, "5.1.1 unknown user"), ("ann@example.org", 554, "5.7.1 spam"),
                ("mod@example.org", 0, "gave up")]
    await store.write(outbound.record_failures, team.id, 7, failures)
    assert await bounces.count_delivery_failures(store, settings, NOON) == 1
    assert await bounces.count_delivery_failures(store, settings, NOON + DAY) == 0
    scores = {a: (await _member(store, team, a))["bounce_score"] for a in ("bob@example.org", "ann@example.org")}
    assert scores == {"bob@example.org": 1.0, "ann@example.org": 0.0}
    assert await store_bounces.uncounted_failures(store.db) == []


async def test_a_refused_message_is_not_blamed_on_its_recipients(store, settings, team):
    """The same un-coded 5xx for several copies of one message means the message was refused: nobody scores."""
    failures = [(a, 554, "Transaction failed") for a in ("ann@example.org", "bob@example.org", "mod@example.org")]
    await store.write(outbound.record_failures, team.id, 9, failures)
    assert await bounces.count_delivery_failures(store, settings, NOON) == 0


async def test_failures_of_deleted_lists_and_notices_are_skipped(store, settings, team):
    """A failure whose list is gone (or that has none) is marked looked-at, not counted, and nothing breaks."""
    await store.write(outbound.record_failures, None, 1, [("bob@example.org", 550, "5.1.1 unknown")])
    await store.write(outbound.record_failures, 999, 1, [("bob@example.org", 550, "5.1.1 unknown")])
    assert await bounces.count_delivery_failures(store, settings, NOON) == 0
    assert await store_bounces.uncounted_failures(store.db) == []


async def test_decay_job_rewrites_old_scores(store, settings, team):
    """decay_scores brings scores older than an hour up to date, and leaves fresh ones alone."""
    await _record(store, settings, team, "bob@example.org", NOON)
    await _record(store, settings, team, "ann@example.org", NOON + 7 * DAY - 60)
    assert await bounces.decay_scores(store, settings, NOON + 7 * DAY) == 1
    assert (await _member(store, team, "bob@example.org"))["bounce_score"] == pytest.approx(0.5)
    assert (await _member(store, team, "ann@example.org"))["bounce_score"] == 1.0


async def test_bouncing_lists_members_with_a_score(store, settings, team):
    """bouncing() gives the members-ls row of each member with a score, decayed to now; an unknown list refuses."""
    await _record(store, settings, team, "bob@example.org", NOON)
    [row] = await bounces.bouncing(store, LIST, now=NOON + 7 * DAY)
    assert row["address"] == "bob@example.org" and row["bounce_score"] == 0.5 and row["role"] == "member"
    assert row["bounce_last_at"] == NOON and row["bounce_disabled_at"] is None
    assert await bounces.bouncing(store, LIST, now=NOON + 100 * DAY) == []
    with pytest.raises(NoSuchList):
        await bounces.bouncing(store, "nope@example.org")
