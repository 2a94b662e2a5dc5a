"""The emergency rule: while a list is under emergency moderation every post waits for a moderator."""

from __future__ import annotations

from listserv.pipeline.msgdata import MsgData, Reason


def emergency(data: MsgData) -> Reason | None:
    if not data.mlist.settings.emergency_moderation:
        return None
    return Reason("emergency", f"{data.mlist.address} is under emergency moderation: every post is held")
