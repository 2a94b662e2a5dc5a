"""Discard held non-member posts nobody decided on within the list's `hold_expiry_days` (default 14).

Recorded like a moderator's discard: held.decide with by="auto-expiry" and an
audit row. Only posts held because their sender was not a member, and whose
sender is still not one, expire; a member's held post waits for a person, and
so does mail held at -request, -owner or -bounces. Nobody is told (a notice to
a stranger would be backscatter).
"""

from __future__ import annotations

import logging

import aiosqlite

from listserv import lists
from listserv.config import Settings
from listserv.lists import MailingList
from listserv.wording import plural
from listserv.store import Store, audit, held, members

log = logging.getLogger(__name__)
ACTOR = "auto-expiry"
DAY = 86400.0
POST_ROLES = ("post", "confidential")


def expires(row: dict) -> bool:
    """A post held (among other reasons) because its sender is not a member.

    >>> expires({"role": "post", "reasons": [{"rule": "size"}, {"rule": "nonmember"}]})
    True
    >>> expires({"role": "post", "reasons": [{"rule": "moderated"}]}), expires({"role": "owner", "reasons": []})
    (False, False)
    """
    return row["role"] in POST_ROLES and any(reason["rule"] == "nonmember" for reason in row["reasons"])


async def expire_held(store: Store, settings: Settings, now: float) -> int:
    """Periodic job: discard every expired held non-member post; returns how many."""
    discarded = 0
    for mlist in await lists.all_lists(store):
        days = mlist.settings.hold_expiry_days
        if not days:
            continue
        old = [row for row in await held.waiting_since(store.db, now - days * DAY, mlist.id) if expires(row)]
        ids = [row["id"] for row in old if not await _member_now(store, mlist, row["sender"])]
        if ids:
            discarded += await store.write(_discard, mlist, ids, days)
    return discarded


async def _member_now(store: Store, mlist: MailingList, sender: str) -> bool:
    return bool(sender) and await members.get(store.db, mlist.id, sender) is not None


async def _discard(db: aiosqlite.Connection, mlist: MailingList, ids: list[int], days: int) -> int:
    """Write job: discard each post still undecided (a moderator may have decided meanwhile)."""
    count = 0
    for held_id in ids:
        if await held.decide(db, held_id, "discarded", ACTOR, f"nobody decided within {plural(days, 'day')}"):
            detail = f"expired after {plural(days, 'day')}"
            await audit.record(db, ACTOR, "discard", mlist.id, f"held:{held_id}", detail)
            count += 1
    if count:
        log.info("%s: %s expired after %s", mlist.address, plural(count, "held non-member post"), plural(days, "day"))
    return count
