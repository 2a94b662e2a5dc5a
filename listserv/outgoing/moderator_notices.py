"""Build the notices moderators get: one per held post, and the daily reminder of what waited over a day.

Both are plain text From: and To: the list's owner address (listserv.reminders
queues them to every moderator and owner). A confidential post is named
"confidential post": its subject never leaves the server in a notice. The
commands to run are spelled out, ready to paste, and with the web pages on
([web] enabled) the held post's page under [web] base_url is linked too.
"""

from __future__ import annotations

import urllib.parse

from listserv.addresses import sub_address
from listserv.config import WebSettings
from listserv.lists import MailingList
from listserv.outgoing import notices, owner_mail
from listserv.wording import plural

DAY = 86400.0
POST_ROLES = ("post", "confidential")  # held mail of these roles can be approved; the rest only discarded


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


def by_reply(reply_to: str) -> list[str]:
    """The sentence telling moderators they may decide by replying (nothing when there is no reply address)."""
    if not reply_to:
        return []
    return [
        "", "Or reply to this message (it goes to the moderation address in its Reply-To) with one line first:",
        '    approve   or   reject REASON   or   discard',
        "It works once, only from the address you moderate this list with, and only if your mail authenticates.",
    ]


def held_page(web: WebSettings, list_address: str, held_id: int | None = None) -> str:
    """The web page of a held post (or, without an id, the list's held queue) under base_url; '' when the web
    pages are off, so a notice then names only the commands.

    >>> web = WebSettings(enabled=True, base_url="https://lists.example.org/")
    >>> held_page(web, "team@example.org", 12)
    'https://lists.example.org/lists/team@example.org/held/12'
    >>> held_page(web, "team@example.org")
    'https://lists.example.org/lists/team@example.org/held'
    >>> held_page(WebSettings(enabled=False), "team@example.org", 12)
    ''
    """
    if not web.enabled:
        return ""
    page = f"{web.base_url.rstrip('/')}/lists/{urllib.parse.quote(list_address, safe='@+')}/held"
    return page if held_id is None else f"{page}/{held_id}"


def held_notice(mlist: MailingList, held_id: int, row: dict, page: str = "", reply_to: str = "") -> bytes:
    """The notice that one post was held. row: sender, subject, confidential, role, received_at, reasons.

    page: the held post's web page (held_page), shown above the commands when the web pages are on;
    reply_to: the post's moderation address (listserv.moderation_reply), set as Reply-To.
    """
    what = "A confidential post" if row.get("confidential") else "A post"
    lines = [
        f"{what} to {sub_address(mlist.address, row.get('role', 'post'))} is waiting for a moderator.",
        "",
        f"  Held ID:   {held_id}",
        f"  From:      {row.get('sender') or '(no usable From: address)'}",
        f"  Subject:   {_subject(row)}",
        f"  Received:  {notices.when(row['received_at'])}",
        "  Held because:",
    ]
    lines += [f"    - {reason['rule']}: {reason['text']}" for reason in row.get("reasons", [])]
    if page:
        lines += ["", "To decide on the web (log in with your address):", f"    {page}"]
    lines += ["", "To decide, run on the list server:"] + commands(held_id, row.get("role", "post"))
    lines += by_reply(reply_to)
    expiry = mlist.settings.hold_expiry_days
    if expiry:
        lines += ["", f"Posts from non-members that nobody decides on are discarded after {plural(expiry, 'day')}."]
    what = "confidential post" if row.get("confidential") else "post"
    subject = f"{mlist.address}: {what} held ({held_id})"
    return owner_mail.plain(mlist, sub_address(mlist.address, "owner"), subject, lines, reply_to)


def reminder(
    mlist: MailingList, rows: list[dict], now: float, web: WebSettings | None = None,
    reply_to: dict[int, str] | None = None,
) -> bytes:
    """The daily list of held posts that have waited more than a day, oldest first; with the web pages on, each
    post's page and the queue's page are linked too.

    reply_to: each post's moderation address by held id, named under it; with one post it is the Reply-To.
    """
    reply_to = reply_to or {}
    verb = "has" if len(rows) == 1 else "have"
    lines = [f"{plural(len(rows), 'held message')} on {mlist.address} {verb} waited more than a day:", ""]
    for row in rows:
        days = int((now - row["received_at"]) // DAY)
        rules = ",".join(dict.fromkeys(reason["rule"] for reason in row["reasons"])) or "-"
        lines.append(f"  {row['id']:>6}  {plural(days, 'day')}  {row['sender'] or '(unknown sender)'}  [{rules}]")
        lines.append(f"          {_subject(row)}")
        if reply_to.get(row["id"]):
            lines.append(f"          decide by mail: approve, reject REASON or discard to {reply_to[row['id']]}")
        if web is not None and web.enabled:
            lines.append(f"          {held_page(web, mlist.address, row['id'])}")
    queue = held_page(web, mlist.address) if web is not None else ""
    lines += ["", "See them all on the web:", f"    {queue}"] if queue else []
    lines += [
        "", "See them all with:", f"    listserv held ls {mlist.address}", "",
        "Decide with `listserv held approve ID...`, `held reject ID... --reason \"...\"` or `held discard ID...`.",
    ]
    only = reply_to.get(rows[0]["id"], "") if len(rows) == 1 else ""
    if reply_to:
        lines.append("Or send one line (approve, reject REASON or discard) to a post's address above, from your"
                     " moderator address" + ("; replying to this message does that." if only else "."))
    subject = f"{mlist.address}: held posts waiting"
    return owner_mail.plain(mlist, sub_address(mlist.address, "owner"), subject, lines, only)
