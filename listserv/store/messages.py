"""The archive. Source of truth: every accepted post (raw bytes and the fields extracted from it)."""

from __future__ import annotations

import time

import aiosqlite

from listserv.store.rows import insert, many, one

_FIELDS = (
    "id, list_id, message_id, date, received_at, sender, sender_name, subject,"
    " in_reply_to, refs, body_text, confidential, inbound_id"
)


async def add(db: aiosqlite.Connection, list_id: int, post: dict) -> int:
    """Archive one post. post: message_id, date, sender, sender_name, subject, in_reply_to,
    refs, body_text, confidential, inbound_id, raw; and for search (0002_search.sql):
    search_text (listserv.archive.search.searchable_text of body_text; defaults to the
    whole body_text so a post is never unfindable), attachments (newline-separated
    names) and thread_id. The FTS index follows by trigger."""
    body_text = post.get("body_text", "")
    return await insert(
        db,
        "INSERT INTO messages (list_id, message_id, date, received_at, sender, sender_name, subject,"
        " in_reply_to, refs, body_text, confidential, inbound_id, raw, search_text, attachments, thread_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            list_id, post["message_id"], post["date"], post.get("received_at", time.time()),
            post.get("sender", ""), post.get("sender_name", ""), post.get("subject", ""),
            post.get("in_reply_to", ""), post.get("refs", ""), body_text,
            int(bool(post.get("confidential"))), post.get("inbound_id"), post.get("raw"),
            post.get("search_text", body_text), post.get("attachments", ""), post.get("thread_id"),
        ),
    )


async def has_message_id(db: aiosqlite.Connection, list_id: int, message_id: str) -> bool:
    return await one(db, "SELECT 1 FROM messages WHERE list_id = ? AND message_id = ?", (list_id, message_id)) is not None


async def get(db: aiosqlite.Connection, archive_id: int) -> dict | None:
    return await one(db, f"SELECT {_FIELDS} FROM messages WHERE id = ?", (archive_id,))


async def raw(db: aiosqlite.Connection, archive_id: int) -> bytes | None:
    row = await one(db, "SELECT raw FROM messages WHERE id = ?", (archive_id,))
    return row["raw"] if row else None


async def for_list(db: aiosqlite.Connection, list_id: int) -> list[dict]:
    return await many(db, f"SELECT {_FIELDS} FROM messages WHERE list_id = ? ORDER BY id", (list_id,))


async def count(db: aiosqlite.Connection, list_id: int) -> int:
    row = await one(db, "SELECT count(*) AS n FROM messages WHERE list_id = ?", (list_id,))
    return row["n"]


async def has_inbound_id(db: aiosqlite.Connection, inbound_id: int) -> bool:
    """True when a post from this inbound row is archived already (one row may reach several lists)."""
    return await one(db, "SELECT 1 FROM messages WHERE inbound_id = ?", (inbound_id,)) is not None
