"""The size rule: a post bigger than the list's max_message_size (when set) waits for a moderator."""

from __future__ import annotations

from listserv.wording import plural
from listserv.pipeline.msgdata import MsgData, Reason


def size(data: MsgData) -> Reason | None:
    limit = data.mlist.settings.max_message_size
    if limit <= 0 or len(data.raw) <= limit:
        return None
    return Reason("size", f"the message is {plural(len(data.raw), 'byte')}, larger than the list's limit of {limit}")
