"""Tell moderators what waits for them: one notice per held post, and a daily reminder of what waited over a day.

Both go to every moderator and owner of the list in one message (To: the
list's owner address, so nobody's address is shown to the others), and both
can be turned off with the list setting `moderator_notices`. A confidential
post is named "confidential post": its subject never leaves the server in a
notice. The commands to run are spelled out, ready to paste.
"""

from __future__ import annotations

import logging

import aiosqlite

from listserv import lists, outgoing
from listserv.outgoing import notices, owner_mail
from listserv.addresses import sub_address
from listserv.config import Settings
from listserv.lists import MailingList
from listserv.output import plural
from listserv.store import Store, held, marks, members

log = logging.getLogger(__name__)
DAY = 86400.0
POST_ROLES = ("post", "confidential")  # held mail of these roles can be approved; the rest only discarded
MODERATORS = ("moderator", "owner")


async def moderators(db: aiosqlite.Connection, list_id: int) -> list[str]:
    """Everyone who works the held queue of the list: moderators and owners."""
    return [member.address for member in await members.with_roles(db, list_id, MODERATORS)]


def _subject(row: dict) -> str:
    """What a notice may say about a post's subject: nothing, for a confidential one."""
    if row.get("confidential"):
        return notices.HIDDEN_SUBJECT
    return row.get("subject") or "(no subject)"


def commands(held_id: int, role: str) -> list[str]:
    """The CLI commands that decide a held message, ready to paste.

    >>> commands(12, "post")[:2]
    ['    listserv held show 12', '    listserv held approve 12']
    >>> commands(3, "bounces")
    ['    listserv held show 3', '    listserv held discard 3']
    """
    found = [f"    listserv held show {held_id}"]
    if role in POST_ROLES + ("owner",):
        found += [f"    listserv held approve {held_id}", f'    listserv held reject {held_id} --reason "..."']
    return found + [f"    listserv held discard {held_id}"]


def held_notice(mlist: MailingList, held_id: int, row: dict) -> bytes:
    """The notice that one post was held. row: sender, subject, confidential, role, received_at, reasons."""
    what = "A confidential post" if row.get("confidential") else "A post"
    lines = [
        f"{what} to {sub_address(mlist.address, row.get('role', 'post'))} is waiting for a moderator.",
        "",
        f"  Held ID:   {held_id}",
        f"  From:      {row.get('sender') or '(no usable From: address)'}",
        f"  Subject:   {_subject(row)}",
        f"  Received:  {owner_mail.when(row['received_at'])}",
        "  Held because:",
    ]
    lines += [f"    - {reason['rule']}: {reason['text']}" for reason in row.get("reasons", [])]
    lines += ["", "To decide, run on the list server:"] + commands(held_id, row.get("role", "post"))
    expiry = mlist.settings.hold_expiry_days
    if expiry:
        lines += ["", f"Posts from non-members that nobody decides on are discarded after {plural(expiry, 'day')}."]
    what = "confidential post" if row.get("confidential") else "post"
    subject = f"{mlist.address}: {what} held ({held_id})"
    return owner_mail.plain(mlist, sub_address(mlist.address, "owner"), subject, lines)


async def notify(db: aiosqlite.Connection, settings: Settings, mlist: MailingList, held_id: int, row: dict) -> bool:
    """Queue the one notice for a post just held, inside the hold's transaction; False when nobody gets one."""
    if not mlist.settings.moderator_notices:
        return False
    to = await moderators(db, mlist.id)
    if not to:
        return False
    await outgoing.queue(db, settings, mlist, held_notice(mlist, held_id, row), to)
    return True


def reminder(mlist: MailingList, rows: list[dict], now: float) -> bytes:
    """The daily list of held posts that have waited more than a day, oldest first."""
    verb = "has" if len(rows) == 1 else "have"
    lines = [f"{plural(len(rows), 'held message')} on {mlist.address} {verb} waited more than a day:", ""]
    for row in rows:
        days = int((now - row["received_at"]) // DAY)
        rules = ",".join(dict.fromkeys(reason["rule"] for reason in row["reasons"])) or "-"
        lines.append(f"  {row['id']:>6}  {plural(days, 'day')}  {row['sender'] or '(unknown sender)'}  [{rules}]")
        lines.append(f"          {_subject(row)}")
    lines += [
        "", "See them all with:", f"    listserv held ls {mlist.address}", "",
        "Decide with `listserv held approve ID...`, `held reject ID... --reason \"...\"` or `held discard ID...`.",
    ]
    return owner_mail.plain(mlist, sub_address(mlist.address, "owner"), f"{mlist.address}: held posts waiting", lines)


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
            await store.write(_queue_reminder, settings, mlist, reminder(mlist, waiting, now), to, now)
            log.info("%s: reminded %s of %s", mlist.address, plural(len(to), "moderator"),
                     plural(len(waiting), "held message"))
            sent += 1
    return sent


async def _queue_reminder(
    db: aiosqlite.Connection, settings: Settings, mlist: MailingList, content: bytes, to: list[str], now: float
) -> None:
    await outgoing.queue(db, settings, mlist, content, to)
    await marks.put(db, mlist.id, "reminder", now)
