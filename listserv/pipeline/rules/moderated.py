"""The moderated rule: a member whose moderated flag is set has every post held."""

from __future__ import annotations

from listserv.pipeline.msgdata import MsgData, Reason


def moderated(data: MsgData) -> Reason | None:
    if data.member is None or not data.member.moderated:
        return None
    return Reason("moderated", f"{data.sender} is a moderated member of {data.mlist.address}")
