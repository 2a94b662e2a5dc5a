"""The loop rule: a post carrying this list's own List-Id or X-BeenThere came back to us; discard it."""

from __future__ import annotations

from listserv import message
from listserv.pipeline.msgdata import MsgData, Reason


def list_id(list_address: str) -> str:
    """The RFC 2919 list-id of a list: its address with the @ turned into a dot.

    >>> list_id("team@example.org")
    'team.example.org'
    """
    return list_address.replace("@", ".", 1)


def loop(data: MsgData) -> Reason | None:
    if data.msg is None:
        return None
    ours = f"<{list_id(data.mlist.address)}>"
    for value in message.header_all(data.msg, "List-Id"):
        if ours in value.casefold():
            return Reason("loop", f"the message already carries this list's List-Id {ours}: a mail loop")
    for value in message.header_all(data.msg, "X-BeenThere"):
        if value.strip().casefold() == data.mlist.address:
            return Reason("loop", f"the message already went through {data.mlist.address} (X-BeenThere): a mail loop")
    return None
