"""The leak_guard rule: a confidential post whose To/Cc named addresses outside the list.

The list never sends those addresses its copy, but the sender's mail program
may already have: with the list's `leak_guard` at hold, a moderator looks
first; at notify (the default) the post goes out to the members with To/Cc
reduced to the list. Either way the sender and the moderators are told which
addresses were outside (listserv.confidential.guard.warn).
"""

from __future__ import annotations

from listserv.wording import plural
from listserv.pipeline.msgdata import ACCEPT, HOLD, MsgData, Reason

SHOWN = 10  # addresses named in the reason; the notice lists them all


def leak_guard(data: MsgData) -> Reason | None:
    if not data.confidential or not data.outside:
        return None
    named = ", ".join(data.outside[:SHOWN]) + (", ..." if len(data.outside) > SHOWN else "")
    return Reason("leak_guard", f"confidential post addressed or copied to {plural(len(data.outside), 'address')}"
                                f" outside the list: {named}")


def action(data: MsgData) -> str:
    """hold when the list's leak_guard is hold; otherwise the post is not held for this (accept)."""
    return HOLD if data.mlist.settings.leak_guard == "hold" else ACCEPT
