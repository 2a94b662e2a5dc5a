"""The archive handler: store an accepted post (raw bytes as received plus extracted fields) when the list archives."""

from __future__ import annotations

import aiosqlite

from listserv import message
from listserv.config import Settings
from listserv.pipeline.decorate import unprefixed
from listserv.pipeline.msgdata import MsgData
from listserv.store import messages


def fields(data: MsgData) -> dict:
    """The archive row of a post: what search, threading and display need, and the raw bytes."""
    msg = data.msg
    return {
        "message_id": data.message_id,
        "date": message.date(msg, data.received_at) if msg is not None else data.received_at,
        "sender": data.sender,
        "sender_name": data.sender_name,
        "subject": unprefixed(data.subject, data.mlist.subject_prefix),
        "in_reply_to": message.in_reply_to(msg) if msg is not None else "",
        "refs": " ".join(message.references(msg)) if msg is not None else "",
        "body_text": data.body_text,
        "confidential": data.confidential,
        "raw": data.raw,
    }


async def to_archive(db: aiosqlite.Connection, settings: Settings, data: MsgData) -> None:
    """Add the archive row and remember its id for the deliveries; nothing when archiving is off."""
    if not data.mlist.get("archive"):
        return
    row = fields(data)
    # messages.inbound_id is unique, but one inbound message may be posted to two lists: the first keeps it.
    if data.inbound_id is not None and not await messages.has_inbound_id(db, data.inbound_id):
        row["inbound_id"] = data.inbound_id
    data.archive_id = await messages.add(db, data.mlist.id, row)
