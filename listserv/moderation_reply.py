"""Moderation by replying to a held-post notice: what a reply asks, and the reply address a notice carries.

Every held-post notice (and reminder) names, in its Reply-To, the address
NAME-confirm+TOKEN@DOMAIN, whose token is a confirmation token of the action
'moderate' bound to that one held post (listserv.confirm: signed, single use,
expiring with the post). A moderator who answers it with `approve`,
`reject REASON` or `discard` as the first line of their own text (or as the
subject) decides the post exactly as `listserv held` does; the pipeline
carries it out (listserv.pipeline.moderate).
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from listserv import confirm, expiry
from listserv.addresses import sub_address
from listserv.commands.parser import body_lines, subject_line
from listserv.lists import MailingList
from listserv.message import one_line

DAY = 86400.0
TOKEN_DAYS = 30  # a post that never expires by itself: its reply address lives this long (reminders renew it)
REASON_CHARS = 300  # of a `reject REASON` line, told to the sender
MODERATORS = ("moderator", "owner")  # the roles whose reply decides


@dataclass(frozen=True)
class Asked:
    """The decision a reply asks for: approve, reject (with its reason) or discard; verb '' when none of them."""

    verb: str
    reason: str = ""


def read_line(line: str) -> Asked:
    """The decision one line asks for; words after approve/discard are ignored, after reject they are the reason.

    >>> read_line("Approve."), read_line("reject  Off topic for this list")
    (Asked(verb='approve', reason=''), Asked(verb='reject', reason='Off topic for this list'))
    >>> read_line("discard this spam"), read_line("approve?"), read_line("Thanks, I approve")
    (Asked(verb='discard', reason=''), Asked(verb='', reason=''), Asked(verb='', reason=''))
    """
    words = line.strip().split(None, 1)
    word = words[0].casefold().rstrip(".!:,;") if words else ""
    if word not in ("approve", "reject", "discard"):
        return Asked("")
    reason = one_line(words[1])[:REASON_CHARS] if word == "reject" and len(words) > 1 else ""
    return Asked(word, reason)


def read(subject: str, body_text: str, prefix: str = "") -> Asked:
    """What a reply asks: its first own (not quoted) body line, else its subject without "Re:" and list prefix.

    >>> read("Re: team@example.org: post held (3)", "reject not for this list\\n\\n> A post to team@...")
    Asked(verb='reject', reason='not for this list')
    >>> read("discard", "Sent from my phone"), read("Re: held (3)", "> approve\\nhello")
    (Asked(verb='discard', reason=''), Asked(verb='', reason=''))
    """
    for line in body_lines(body_text)[:1] + [subject_line(subject, prefix)]:
        asked = read_line(line)
        if asked.verb:
            return asked
    return Asked("")


def token_expiry(mlist: MailingList, row: dict, now: float) -> float:
    """When a held post's reply address stops working: when the post itself expires, else TOKEN_DAYS on."""
    days = mlist.settings.hold_expiry_days
    if days and expiry.expires(row):
        return row["received_at"] + days * DAY
    return now + TOKEN_DAYS * DAY


async def reply_address(db: aiosqlite.Connection, mlist: MailingList, held_id: int, row: dict, now: float) -> str:
    """Inside a write transaction: NAME-confirm+TOKEN@DOMAIN for this held post (the token still out, or a new one)."""
    token = await confirm.held_token(db, mlist, held_id, now, token_expiry(mlist, row, now))
    return sub_address(mlist.address, "confirm", token)
