"""The unparseable rule: a message we cannot read, or without a usable From:, is kept and held.

Parser defects the stdlib recovers from (a lost MIME boundary, a missing blank
line) do not stop a post being archived and sent, so they only fire this rule
together with a real failure; they are named in its reason for the moderator.
"""

from __future__ import annotations

from listserv import message
from listserv.pipeline.msgdata import MsgData, Reason


def _defects(data: MsgData) -> str:
    names = sorted(set(data.defects))
    return f" (parser defects: {', '.join(names)})" if names else ""


def unparseable(data: MsgData) -> Reason | None:
    if data.msg is None and data.limits:  # its headers were too big to read: the limits rule says so
        return None
    if data.msg is None:
        return Reason("unparseable", f"the message could not be parsed{_defects(data)}")
    if data.sender:
        return None
    written = message.header(data.msg, "From")
    if not written:
        return Reason("unparseable", f"the message has no From: header{_defects(data)}")
    return Reason("unparseable", f"the From: header {written[:200]!r} holds no usable address{_defects(data)}")
