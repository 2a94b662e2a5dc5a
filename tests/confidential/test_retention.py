"""Leak matrix, retention row: confidential text is purged after the list's days (an injected clock), nothing else."""

from __future__ import annotations

import time

from listserv import audit, lists, moderation
from listserv.archive import retention
from listserv.archive import search as archive_search
from listserv.periodic import JOBS
from listserv.store import held, messages, outbound

from .conftest import TEAM, compose, leaked, reply, secret

DAY = 86400.0


async def test_a_back_dated_post_counts_from_its_date(store, team, submit):
    """Retention counts from the earlier of arrival and the Date header: an old post is purged at once."""
    await lists.set_setting(store, TEAM, "confidential_retention_days", "30")
    await submit(secret("c1@example.org", when=time.time() - 40 * DAY))
    assert (await retention.purge(store))[TEAM]["archived"] == 1


async def _rows(store, team) -> dict[str, dict]:
    rows = {row["message_id"]: row for row in await messages.for_list(store.db, team.id)}
    for row in rows.values():
        row["raw"] = await messages.raw(store.db, row["id"])
    return rows


async def test_retention_purges_confidential_text_after_the_days(store, team, submit):
    """Row 'retention purge': before the days nothing goes; after, raw, subject, body and index entries go."""
    await lists.set_setting(store, TEAM, "confidential_retention_days", "30")
    now = time.time()
    await submit(secret("c1@example.org", when=now))
    await submit(compose("Memo template", "A public memo.\n", "o1@example.org"))
    assert (await retention.purge(store, now=now + 29 * DAY))[TEAM] == {"archived": 0, "held": 0}
    assert "Zanzibarian" in leaked((await _rows(store, team))["c1@example.org"]["raw"])
    assert (await retention.purge(store, TEAM, now=now + 31 * DAY))[TEAM] == {"archived": 1, "held": 0}
    rows = await _rows(store, team)
    purged, kept = rows["c1@example.org"], rows["o1@example.org"]
    assert purged["raw"] is None and leaked(str(purged)) == [] and purged["confidential"] == 1
    assert abs(purged["date"] - now) < 2 and purged["sender"] == "ann@example.org"
    assert kept["raw"] is not None and b"public memo" in kept["raw"]
    assert await archive_search.search(store.db, team.id, "Zanzibarian OR Quillfeather", include_confidential=True) == []
    [entry] = await audit.entries(store, TEAM, action="purge")
    assert entry["detail"] == "confidential text purged: 1 archived, 0 held"


async def test_a_reply_after_the_purge_is_still_confidential(store, team, submit):
    """The thread map outlives the text: a reply to a purged post is confidential."""
    await lists.set_setting(store, TEAM, "confidential_retention_days", "1")
    await submit(secret("c1@example.org"))
    await retention.purge(store, now=time.time() + 2 * DAY)
    await submit(reply("r1@example.org", "c1@example.org"))
    assert (await _rows(store, team))["r1@example.org"]["confidential"] == 1


async def test_decided_confidential_held_posts_are_purged_waiting_ones_kept(store, settings, team, submit):
    """A held confidential post keeps its text while it waits; once decided it goes with the retention."""
    await lists.set_setting(store, TEAM, "confidential_retention_days", "1")
    stranger = "x@elsewhere.example"
    await submit(secret("c1@example.org", sender=stranger), mail_from=stranger)
    await submit(secret("c2@example.org", sender=stranger), mail_from=stranger)
    first, second = await held.waiting(store.db, team.id)
    await moderation.discard(store, first["id"], "mod@example.org")
    counts = await retention.purge(store, now=time.time() + 2 * DAY)
    assert counts[TEAM] == {"archived": 0, "held": 1}
    assert await held.raw(store.db, first["id"]) == b"" and (await held.get(store.db, first["id"]))["subject"] == ""
    assert "Zanzibarian" in leaked(await held.raw(store.db, second["id"]))


async def test_policy_none_purges_at_once_and_zero_days_keeps(store, team, submit):
    """Switching a list to none purges its stored confidential text on the next run; restricted with 0 keeps it."""
    await submit(secret("c1@example.org"))
    assert (await retention.purge(store, now=time.time() + 1000 * DAY))[TEAM]["archived"] == 0
    await lists.set_setting(store, TEAM, "confidential_archive", "none")
    assert (await retention.purge(store))[TEAM]["archived"] == 1


async def test_the_daemon_runs_the_purge_periodically(store, settings, team, submit):
    """retention.purge_due is one of the periodic jobs and purges by the clock it is given."""
    assert retention.purge_due in JOBS
    await lists.set_setting(store, TEAM, "confidential_retention_days", "1")
    await submit(secret("c1@example.org"))
    await retention.purge_due(store, settings, time.time() + 2 * DAY)
    assert (await _rows(store, team))["c1@example.org"]["raw"] is None


async def test_purged_words_leave_the_database_file(store, settings, team, submit):
    """After a purge no byte of the confidential text stays in the database file (index merged, pages zeroed)."""
    from pathlib import Path

    await lists.set_setting(store, TEAM, "confidential_retention_days", "1")
    for n in range(3):
        await submit(compose(f"Public {n}", "Ordinary words only.\n", f"o{n}@example.org"))
    await submit(secret("c1@example.org"))
    for batch in await outbound.due(store.db, now=1e12, exclude=[-1], limit=1000):  # as if delivered
        await store.write(outbound.withdraw, batch["outbound_message_id"])
    await retention.purge(store, now=time.time() + 2 * DAY)
    await store.close()  # closing checkpoints the WAL into the file
    data = Path(settings.storage.database).read_bytes()
    assert all(word.encode() not in data and word.lower().encode() not in data for word in ("Zanzibarian", "Xylophonic"))
    assert b"Ordinary words" in data  # the file is readable: the check would see them


async def test_the_daemon_purges_once_a_day(store, settings, team, submit):
    """purge_due purges a list at its first run and then not again until a day has passed."""
    await lists.set_setting(store, TEAM, "confidential_retention_days", "1")
    start = time.time() + 2 * DAY
    await retention.purge_due(store, settings, start)
    await submit(secret("c1@example.org", when=time.time() - 3 * DAY))
    await retention.purge_due(store, settings, start + 3600)
    assert (await _rows(store, team))["c1@example.org"]["raw"] is not None
    await retention.purge_due(store, settings, start + DAY + 1)
    assert (await _rows(store, team))["c1@example.org"]["raw"] is None
