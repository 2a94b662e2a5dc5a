"""The duplicate rule: a Message-ID this list has already archived is a resend; discard it."""

from __future__ import annotations

from listserv.pipeline.msgdata import MsgData, Reason


def duplicate(data: MsgData) -> Reason | None:
    if not data.already_archived:
        return None
    return Reason("duplicate", f"Message-ID <{data.message_id}> is already in the archive of {data.mlist.address}")
