"""The archive handler: store an accepted post (raw bytes as received plus extracted fields) when the list archives."""

from __future__ import annotations

import aiosqlite

from listserv import message
from listserv.archive.search import index_fields
from listserv.archive.threading import archive_posts, assign_thread
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
    """Add the archive row, threaded, and remember its id for the deliveries.

    When the list keeps no content of the post (archiving off, or a confidential
    post under confidential_archive none) the post still enters the thread map,
    without its subject or any text: a later reply must find its thread.
    """
    if not data.mlist.settings.archive:
        return await _thread_only(db, data)
    if data.confidential and data.mlist.settings.confidential_archive == "none":
        # no raw, subject or body: only its Message-ID and date, kept by confidential.remember(), and the thread map
        return await _thread_only(db, data)
    row = {**fields(data), **index_fields(data.msg, data.body_text)}
    # messages.inbound_id is unique, but one inbound message may be posted to two lists: the first keeps it.
    if data.inbound_id is not None and not await messages.has_inbound_id(db, data.inbound_id):
        row["inbound_id"] = data.inbound_id
    (data.archive_id,) = await archive_posts(db, data.mlist.id, [row])
    if data.auth is not None:
        await messages.record_auth(db, data.archive_id, data.auth.as_json())


async def _thread_only(db: aiosqlite.Connection, data: MsgData) -> None:
    """Record the post in the thread map only; its subject is left out (the thread keeps none of it)."""
    if not data.message_id:
        return
    row = fields(data)
    refs = row["refs"].split()
    await assign_thread(
        db, data.mlist.id, data.message_id, row["in_reply_to"], refs, "", row["date"], data.confidential
    )
