"""Send MIME digests for the members who read a list as a digest.

An issue is one multipart/digest message, built by listserv.outgoing.digest_issue.
It goes out when the queued posts pass `digest_size_threshold` kilobytes, at
`digest_time` each day (the server's local time), or on `listserv digests
send`. Queuing the issue, taking its posts out of the digest queue and
numbering it happen in one transaction, so each post is in exactly one issue.
Issues are numbered by volume (one per calendar year) and issue (from 1 in
each volume), like Mailman's.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

import aiosqlite

from listserv import lists, outgoing
from listserv.config import Settings
from listserv.errors import NoSuchList
from listserv.lists import MailingList
from listserv.outgoing.digest_issue import build
from listserv.wording import plural
from listserv.store import Store, audit, members
from listserv.store import digests as store_digests

log = logging.getLogger(__name__)
ACTOR = "digests"  # the audit actor of digest sending
DAY = 86400.0


@dataclass(frozen=True)
class Issue:
    """One issue that was queued for delivery."""

    list: str  # the list's address
    volume: int
    issue: int
    posts: int  # posts it carries
    recipients: int  # digest members it was queued for

    def as_json(self) -> dict:
        return asdict(self)


def numbering(last: dict | None, now: float) -> tuple[int, int]:
    """(volume, issue) of the next issue: a new volume with each calendar year, issues counting from 1.

    >>> numbering(None, 0.0)
    (1, 1)
    >>> noon = lambda year, month, day: time.mktime((year, month, day, 12, 0, 0, 0, 0, -1))
    >>> last = {"volume": 2, "issue": 7, "sent_at": noon(2026, 6, 1)}
    >>> numbering(last, noon(2026, 6, 2)), numbering(last, noon(2027, 1, 1))
    ((2, 8), (3, 1))
    """
    if last is None:
        return 1, 1
    if time.localtime(now).tm_year != time.localtime(last["sent_at"]).tm_year:
        return last["volume"] + 1, 1
    return last["volume"], last["issue"] + 1


async def send_issue(db: aiosqlite.Connection, settings: Settings, mlist: MailingList, now: float) -> Issue | None:
    """Write job: queue one issue of everything pending for the list's digest members; None when nothing is owed."""
    posts = await store_digests.pending(db, mlist.id)
    if not posts:
        return None
    recipients = await members.digest_members(db, mlist.id)
    if not recipients:  # everyone switched away from digests since: nothing to send, nothing to keep
        await store_digests.remove(db, [post["id"] for post in posts])
        detail = f"{plural(len(posts), 'post')}; no digest members"
        await audit.record(db, ACTOR, "digest-dropped", mlist.id, "digest", detail)
        return None
    volume, number = numbering(await store_digests.last_issue(db, mlist.id), now)
    content = build(mlist, volume, number, posts)
    queued = await outgoing.queue(db, settings, mlist, content, recipients, verp=mlist.settings.verp,
                                  xverp=mlist.settings.verp, per_member=True)
    await store_digests.remove(db, [post["id"] for post in posts])
    found = Issue(mlist.address, volume, number, len(posts), len(recipients))
    await store_digests.record_issue(db, mlist.id, {**found.as_json(), "outbound_message_id": queued, "sent_at": now})
    await audit.record(db, ACTOR, "digest", mlist.id, f"digest:{volume}:{number}",
                       f"{plural(len(posts), 'post')} to {plural(len(recipients), 'member')}")
    log.info("%s: digest vol %d issue %d queued, %s to %s", mlist.address, volume, number,
             plural(len(posts), "post"), plural(len(recipients), "member"))
    return found


async def send_now(store: Store, settings: Settings, list_address: str | None = None,
                   now: float | None = None) -> list[Issue]:
    """`digests send [LIST]`: send every pending digest now (of one list, NoSuchList if unknown, or of all)."""
    moment = time.time() if now is None else now
    chosen = [await lists.get(store, list_address)] if list_address else await lists.all_lists(store)
    sent = []
    for mlist in chosen:
        issue = await store.write(send_issue, settings, mlist, moment)
        if issue is not None:
            sent.append(issue)
    return sent


def scheduled_moment(digest_time: str, now: float) -> float | None:
    """The latest daily send time (HH:MM, local) at or before now; None when there is no daily send.

    >>> now = time.mktime((2026, 3, 10, 13, 0, 0, 0, 0, -1))
    >>> time.localtime(scheduled_moment("12:00", now))[2:5], time.localtime(scheduled_moment("14:30", now))[2:5]
    ((10, 12, 0), (9, 14, 30))
    >>> scheduled_moment("", now) is None
    True
    """
    if not digest_time:
        return None
    hour, minute = (int(part) for part in digest_time.split(":"))
    local = time.localtime(now)
    today = time.mktime((local.tm_year, local.tm_mon, local.tm_mday, hour, minute, 0, 0, 0, -1))
    if today <= now:
        return today
    return time.mktime((local.tm_year, local.tm_mon, local.tm_mday - 1, hour, minute, 0, 0, 0, -1))


def is_due(mlist: MailingList, waiting: dict, size: int, now: float) -> bool:
    """Whether a list's pending digest goes now: past the size threshold, or a daily time since its oldest post."""
    threshold = mlist.settings.digest_size_threshold * 1024
    if threshold and size >= threshold:
        return True
    moment = scheduled_moment(mlist.settings.digest_time, now)
    return moment is not None and waiting["oldest"] < moment


async def send_due(store: Store, settings: Settings, now: float) -> list[Issue]:
    """Periodic job: send the digests that are due by size or by the daily time."""
    sent = []
    for waiting in await store_digests.waiting_lists(store.db):
        try:
            mlist = await lists.get_by_id(store, waiting["list_id"])
        except NoSuchList:  # deleted meanwhile; its queue went with it
            continue
        if is_due(mlist, waiting, await store_digests.size(store.db, mlist.id), now):
            issue = await store.write(send_issue, settings, mlist, now)
            if issue is not None:
                sent.append(issue)
    return sent
