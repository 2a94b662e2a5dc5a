"""Purge the stored text of confidential posts once their list no longer wants it kept (daemon and `archive purge`).

What goes: an archived confidential post's raw bytes, subject, body text,
search text and attachment names (the search index follows by trigger), its
copy in the inbound queue's history, and the raw bytes and subject of a
confidential held post once a moderator has decided it. What stays: Message-IDs, dates, sender, thread links and the
confidential flag, so replies keep being recognised and a thread never turns
non-confidential. A post still waiting for a moderator keeps everything.

When: with `confidential_retention_days` N > 0, posts received (or dated)
more than N days ago; with `confidential_archive` none, everything at once
(the archive should hold no confidential text; this also cleans up after a
list switched from restricted to none). N = 0 with restricted keeps all.
The daemon's periodic jobs (listserv.periodic) run purge_due(), which purges
each list once a day (at the first tick, then a day after the last purge), so
a post goes at most a day after passing its time; `listserv archive purge`
runs the same at once. A purge that removed archived text then merges the
search index (FTS5 'optimize'): until a merge, deleted words stay readable in
the index's pages. Connections run with secure_delete on, so freed pages are
zeroed; last, the write-ahead log, which still holds the old pages, is
emptied (Store.forget_deleted), also when the purge runs in another process
than the daemon. Each purge that removed anything leaves an audit row.
"""

from __future__ import annotations

import logging
import math
import time

import aiosqlite

from listserv import lists
from listserv.config import Settings
from listserv.lists import MailingList
from listserv.store import Store, audit, held, inbound, marks, messages, search_index

log = logging.getLogger(__name__)
DAY = 86400.0
ACTOR = "retention"
MARK = "confidential-purge"  # list_marks: when the list was last purged (the daemon purges once a day)


def cutoff(mlist: MailingList, now: float) -> float | None:
    """Confidential posts received before this unix time lose their text; None: the list keeps them.

    >>> from listserv.list_settings import ListSettings
    >>> kept_two_days = ListSettings.from_stored({"confidential_retention_days": 2})
    >>> cutoff(MailingList(1, "t@x.org", "", kept_two_days), 10 * DAY) / DAY
    8.0
    >>> cutoff(MailingList(1, "t@x.org", "", ListSettings.from_stored({})), 10 * DAY) is None
    True
    """
    if mlist.settings.confidential_archive == "none":
        return now
    days = mlist.settings.confidential_retention_days
    return now - days * DAY if days > 0 else None


async def purge(store: Store, list_address: str | None = None, now: float | None = None) -> dict[str, dict[str, int]]:
    """Purge every list (or one: NoSuchList if unknown) now; returns {list: {archived, held}}.

    now is injectable for tests; it defaults to the current time.
    """
    moment = time.time() if now is None else now
    targets = [await lists.get(store, list_address)] if list_address else await lists.all_lists(store)
    return await _purge_lists(store, targets, moment)


async def _purge_lists(store: Store, targets: list[MailingList], now: float) -> dict[str, dict[str, int]]:
    """One transaction for the lists with a cutoff; then, when text went, the search index is merged so
    that the purged words leave its pages too (an FTS5 delete only marks them deleted until a merge),
    and the write-ahead log is emptied (StoreBusy if a reader kept it)."""
    due = [(mlist, cut) for mlist in targets if (cut := cutoff(mlist, now)) is not None]
    counts = await store.write(_purge, due, now) if due else {}
    if any(count["archived"] for count in counts.values()):
        await store.write(search_index.optimize)
    if due:
        await store.forget_deleted()  # the old pages are still in the write-ahead log until it is emptied
    for address, count in counts.items():
        if count["archived"] or count["held"]:
            log.info("purged confidential text on %s: %d archived, %d held", address, count["archived"], count["held"])
    return {mlist.address: counts.get(mlist.address, {"archived": 0, "held": 0}) for mlist in targets}


async def _purge(db: aiosqlite.Connection, due: list[tuple[MailingList, float]], now: float) -> dict[str, dict[str, int]]:
    counts = {}
    for mlist, before in due:
        purged = await messages.purge_confidential(db, mlist.id, before, now)
        await inbound.scrub_archived(db, purged)  # nor may the inbound queue's history keep a copy
        archived, kept = len(purged), await held.purge_confidential(db, mlist.id, before, now)
        if archived or kept:
            await audit.record(db, ACTOR, "purge", mlist.id, "", f"confidential text purged: {archived} archived, {kept} held")
        await marks.put(db, mlist.id, MARK, now)
        counts[mlist.address] = {"archived": archived, "held": kept}
    return counts


async def strip(db: aiosqlite.Connection, list_id: int, now: float) -> int:
    """Inside a write: purge every confidential post of the list now (an import into a list whose
    confidential_archive is none stores no confidential text, not even until the next purge)."""
    purged = await messages.purge_confidential(db, list_id, math.inf, now)
    return len(purged)


async def purge_due(store: Store, settings: Settings, now: float) -> None:
    """The periodic job (listserv.periodic.JOBS): purge each list whose last purge is a day old (or never ran)."""
    due = []
    for mlist in await lists.all_lists(store):
        last = await marks.get(store.db, mlist.id, MARK)
        if cutoff(mlist, now) is not None and (last is None or not 0 <= now - last < DAY):
            due.append(mlist)
    if due:
        await _purge_lists(store, due, now)
