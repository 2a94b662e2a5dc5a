"""Build the answer to a moderator's reply to a held-post notice, and say in words what that reply did.

The answer comes From: NAME-request@DOMAIN (Auto-Submitted: auto-replied,
X-BeenThere: NAME-request@DOMAIN, like every command reply, so it never
loops) and names the held post by its id only: neither the post's subject nor
its body, nor the line the moderator wrote, is repeated, so an answer about a
confidential post carries nothing of it.
"""

from __future__ import annotations

from listserv.lists import MailingList
from listserv.outgoing import notices
from listserv.outgoing.notices import when

UNCHANGED = "Nothing was changed."


def answer(mlist: MailingList, to: str, held_id: int | None, text: str, in_reply_to: str = "") -> bytes:
    """The one answer to a moderation reply; held_id None when the reply address named no held post we know."""
    about = f"held message {held_id}" if held_id is not None else "your moderation reply"
    note = notices.envelope(mlist, to, f"{mlist.address}: {about}", "auto-replied", role="request")
    if in_reply_to:
        note["In-Reply-To"] = f"<{in_reply_to}>"
        note["References"] = f"<{in_reply_to}>"
    note.set_content(text + "\n")
    return note.as_bytes()


def decided(mlist: MailingList, held_id: int, verb: str, by: str, told: bool) -> str:
    """What a decision taken by reply did."""
    done = {
        "approve": "approved; it goes out to the members now.",
        "reject": f"rejected; {'the sender was told why' if told else 'the sender was not told (not a member)'}.",
        "discard": "discarded; nobody was told.",
    }[verb]
    return f"Held message {held_id} on {mlist.address} is {done}\nThe list's audit log names you ({by})."


def already(mlist: MailingList, held_id: int, row: dict) -> str:
    """A second reply, or a post decided meanwhile on the web or with `listserv held`: who decided it."""
    return (f"Held message {held_id} on {mlist.address} was already {row['decision']} by {row['decided_by']}"
            f" on {when(row['decided_at'])}. {UNCHANGED}")


def expired(mlist: MailingList, held_id: int, expires_at: float) -> str:
    return (f"The reply address for held message {held_id} on {mlist.address} expired on {when(expires_at)}."
            f" {UNCHANGED} Decide on the list's web pages or with `listserv held`.")


def invalid(mlist: MailingList) -> str:
    return (f"The address you wrote to is not a valid moderation address of {mlist.address}: it is mistyped,"
            f" altered, from another list, or too old. {UNCHANGED}")


def not_moderator(mlist: MailingList, held_id: int) -> str:
    return (f"Only the moderators and owners of {mlist.address} may decide held message {held_id}, writing from"
            f" the address the list knows them by. {UNCHANGED}")


def unknown(mlist: MailingList, held_id: int) -> str:
    return (f"Your reply about held message {held_id} on {mlist.address} did not start with approve,"
            f" reject REASON or discard. {UNCHANGED} Reply again with one of them as the first line.")


def refused(reason: str) -> str:
    """A decision the held post does not allow (e.g. approving mail held at -bounces), in the CLI's words."""
    return f"{reason[:1].upper()}{reason[1:]}. {UNCHANGED}"
