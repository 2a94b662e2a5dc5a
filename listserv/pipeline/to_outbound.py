"""The delivery handler: queue an accepted post for every member who gets it, in batches, in the same transaction."""

from __future__ import annotations

import logging
import time

import aiosqlite

from listserv import outgoing
from listserv.config import Settings
from listserv.lists import MailingList
from listserv.wording import plural
from listserv.pipeline.msgdata import MsgData
from listserv.store import marks, members

log = logging.getLogger(__name__)


async def to_outbound(db: aiosqlite.Connection, settings: Settings, data: MsgData) -> None:
    """One recipients query (never one per member), then one outbound message split into batches."""
    recipients = await members.recipients(db, data.mlist.id, data.sender, data.confidential)
    verp = bool(recipients) and await use_verp(db, data.mlist, time.time())
    await outgoing.queue(  # a smarthost offering XVERP VERPs every post at no cost: xverp
        db, settings, data.mlist, data.content, recipients, data.archive_id, verp=verp,
        xverp=data.mlist.settings.verp, post=True, auth=data.auth,
    )
    log.info(
        "inbound %s to %s: queued for %s%s", data.inbound_id, data.mlist.address, plural(len(recipients), "recipient"),
        " (VERP)" if verp else "",
    )


async def use_verp(db: aiosqlite.Connection, mlist: MailingList, now: float) -> bool:
    """Whether this post goes out VERP'd: the list's `verp` is on and none was in `verp_interval_hours`.

    VERP costs one SMTP transaction per recipient (10,000 members: ~6x the
    time of batches of 500, and one queue file per copy on the smarthost).
    Bounces count at most once per member per day, so one VERP'd post a day
    names every bouncing member as often as it can count; the posts between
    go out in batches and their bounces are read by flufl.bounce (Mailman's
    compromise, VERP_DELIVERY_INTERVAL, by time instead of by count). A
    smarthost offering XVERP VERPs every post anyway (outbound xverp), in one
    transaction per batch: the interval only matters for smarthosts without it.
    """
    if not mlist.settings.verp:
        return False
    interval = mlist.settings.verp_interval_hours * 3600
    last = await marks.get(db, mlist.id, "verp")
    if interval and last is not None and 0 <= now - last < interval:
        return False
    await marks.put(db, mlist.id, "verp", now)
    return True
