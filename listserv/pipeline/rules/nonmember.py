"""The nonmember rule: a From: address that is not a member takes the list's nonmember_action.

A missing or unusable From: is left to the unparseable rule, so such a post is
held with that reason rather than rejected or discarded as a stranger's.
"""

from __future__ import annotations

from listserv.pipeline.msgdata import MsgData, Reason


def nonmember(data: MsgData) -> Reason | None:
    if not data.sender or data.is_member:
        return None
    return Reason("nonmember", f"{data.sender} is not a member of {data.mlist.address}")


def action(data: MsgData) -> str:
    """hold, reject, discard or accept, as the list is set."""
    return data.mlist.settings.nonmember_action
