"""Build the plain-text mail the list's owner address sends: held-post notices, reminders, bounce notices.

Each comes From: NAME-owner@DOMAIN (a reply reaches the owners) with
Auto-Submitted: auto-generated (RFC 3834, so vacation robots stay quiet) and
X-BeenThere: NAME-owner@DOMAIN, which lets the bounce path recognise its own
mail coming back. It is queued with NAME-bounces@DOMAIN as envelope sender
(outgoing.queue). Callers never put a confidential post's subject or body in it.
"""

from __future__ import annotations

from listserv.lists import MailingList
from listserv.outgoing import notices


def plain(mlist: MailingList, to: str, subject: str, lines: list[str], reply_to: str = "") -> bytes:
    """A text/plain notice from the list's owners to `to` (an address, or the owner address itself).

    reply_to: where a reply should go instead of the owners (a held-post notice's moderation address).
    """
    note = notices.envelope(mlist, to, subject, "auto-generated")
    if reply_to:
        note["Reply-To"] = reply_to
    note.set_content("\n".join(lines) + "\n")
    return note.as_bytes()
