"""Tell moderators what waits for them: one notice per held post, and a daily reminder of what waited over a day.

Both go to every moderator and owner of the list in one message (To: the
list's owner address, so nobody's address is shown to the others), and both
can be turned off with the list setting `moderator_notices`. Their text is
built by listserv.outgoing.moderator_notices; this module decides who gets
them and when, and gives each post its moderation reply address
(listserv.moderation_reply) in the same transaction.
"""

from __future__ import annotations

import logging

import aiosqlite

from listserv import lists, moderation_reply, outgoing
from listserv.outgoing.moderator_notices import DAY, held_notice, held_page, reminder
from listserv.config import Settings
from listserv.lists import MailingList
from listserv.wording import plural
from listserv.store import Store, held, marks, members

log = logging.getLogger(__name__)
MODERATORS = ("moderator", "owner")


async def moderators(db: aiosqlite.Connection, list_id: int) -> list[str]:
    """Everyone who works the held queue of the list: moderators and owners."""
    return [member.address for member in await members.with_roles(db, list_id, MODERATORS)]


async def notify(db: aiosqlite.Connection, settings: Settings, mlist: MailingList, held_id: int, row: dict) -> bool:
    """Queue the one notice for a post just held, inside the hold's transaction; False when nobody gets one."""
    if not mlist.settings.moderator_notices:
        return False
    to = await moderators(db, mlist.id)
    if not to:
        return False
    reply_to = await moderation_reply.reply_address(db, mlist, held_id, row, row["received_at"])
    page = held_page(settings.web, mlist.address, held_id)  # '' when the web pages are off
    await outgoing.queue(db, settings, mlist, held_notice(mlist, held_id, row, page, reply_to), to)
    return True


async def remind(store: Store, settings: Settings, now: float) -> int:
    """Periodic job: per list, at most once a day, remind the moderators of posts waiting over a day."""
    sent = 0
    for mlist in await lists.all_lists(store):
        if not mlist.settings.moderator_notices:
            continue
        last = await marks.get(store.db, mlist.id, "reminder")
        if last is not None and 0 <= now - last < DAY:
            continue
        waiting = await held.waiting_since(store.db, now - DAY, mlist.id)
        to = await moderators(store.db, mlist.id) if waiting else []
        if to:
            await store.write(_queue_reminder, settings, mlist, waiting, to, now)
            log.info("%s: reminded %s of %s", mlist.address, plural(len(to), "moderator"),
                     plural(len(waiting), "held message"))
            sent += 1
    return sent


async def _queue_reminder(
    db: aiosqlite.Connection, settings: Settings, mlist: MailingList, waiting: list[dict], to: list[str], now: float
) -> None:
    reply_to = {row["id"]: await moderation_reply.reply_address(db, mlist, row["id"], row, now) for row in waiting}
    await outgoing.queue(db, settings, mlist, reminder(mlist, waiting, now, settings.web, reply_to), to)
    await marks.put(db, mlist.id, "reminder", now)
