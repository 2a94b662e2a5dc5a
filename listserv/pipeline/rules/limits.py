"""The limits rule: a message over a cap on parts, nesting or header bytes waits, unparsed, for a moderator.

The parse stage measured it (listserv.pipeline.prescan) and read only its
headers; holding keeps it, never drops it, and a moderator who approves it
takes on the full parse outside the daemon.
"""

from __future__ import annotations

from listserv.pipeline.msgdata import MsgData, Reason


def limits(data: MsgData) -> Reason | None:
    return Reason("limits", data.limits) if data.limits else None
