"""The unparseable rule: a message we cannot read, or without a From:, is kept and held.

A From: that names no one usable mailbox is the ambiguous_sender rule's reason instead.

Parser defects the stdlib recovers from (a lost MIME boundary, a missing blank
line) do not stop a post being archived and sent, so they only fire this rule
together with a real failure; they are named in its reason for the moderator.
"""

from __future__ import annotations

from listserv.pipeline.msgdata import MsgData, Reason


def _defects(data: MsgData) -> str:
    names = sorted(set(data.defects))
    return f" (parser defects: {', '.join(names)})" if names else ""


def unparseable(data: MsgData) -> Reason | None:
    if data.msg is None and data.limits:  # its headers were too big to read: the limits rule says so
        return None
    if data.msg is None:
        return Reason("unparseable", f"the message could not be parsed{_defects(data)}")
    if data.sender or data.sender_problem:
        return None
    return Reason("unparseable", f"the message has no From: header{_defects(data)}")
