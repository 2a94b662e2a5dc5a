"""The digest queue and the issue log. Source of truth: the posts owed to digest readers, and every issue sent.

A post enters digest_queue in the same transaction that archives it, and
leaves it in the transaction that queues the issue carrying it, so each post
is in exactly one issue. digest_issues numbers the issues (volume, issue).
"""

from __future__ import annotations

from typing import Sequence

import aiosqlite

from listserv.store.rows import insert, many, one


async def add(db: aiosqlite.Connection, list_id: int, post: dict) -> int:
    """Queue one post. post: archive_id, sender, sender_name, subject, content, queued_at."""
    return await insert(
        db,
        "INSERT INTO digest_queue (list_id, archive_id, sender, sender_name, subject, content, queued_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            list_id, post.get("archive_id"), post.get("sender", ""), post.get("sender_name", ""),
            post.get("subject", ""), post["content"], post["queued_at"],
        ),
    )


async def pending(db: aiosqlite.Connection, list_id: int) -> list[dict]:
    """The queued posts of a list in arrival order, with their content."""
    return await many(
        db,
        "SELECT id, archive_id, sender, sender_name, subject, content, queued_at FROM digest_queue"
        " WHERE list_id = ? ORDER BY id",
        (list_id,),
    )


async def size(db: aiosqlite.Connection, list_id: int) -> int:
    """Bytes of content queued for a list (the size threshold compares against this)."""
    row = await one(db, "SELECT coalesce(sum(length(content)), 0) AS n FROM digest_queue WHERE list_id = ?", (list_id,))
    return row["n"]


async def waiting_lists(db: aiosqlite.Connection) -> list[dict]:
    """Every list with queued posts: list_id, posts, and when the oldest was queued."""
    return await many(
        db,
        "SELECT list_id, count(*) AS posts, min(queued_at) AS oldest FROM digest_queue"
        " GROUP BY list_id ORDER BY list_id",
    )


async def remove(db: aiosqlite.Connection, ids: Sequence[int]) -> int:
    """Take posts out of the queue (they went into an issue); returns how many."""
    await db.executemany("DELETE FROM digest_queue WHERE id = ?", [(i,) for i in ids])
    return len(ids)


async def last_issue(db: aiosqlite.Connection, list_id: int) -> dict | None:
    """The newest issue of a list: volume, issue, posts, recipients, sent_at; None before the first."""
    return await one(
        db,
        "SELECT volume, issue, posts, recipients, outbound_message_id, sent_at FROM digest_issues"
        " WHERE list_id = ? ORDER BY id DESC LIMIT 1",
        (list_id,),
    )


async def record_issue(db: aiosqlite.Connection, list_id: int, issue: dict) -> int:
    """Log a sent issue. issue: volume, issue, posts, recipients, outbound_message_id, sent_at."""
    return await insert(
        db,
        "INSERT INTO digest_issues (list_id, volume, issue, posts, recipients, outbound_message_id, sent_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            list_id, issue["volume"], issue["issue"], issue["posts"], issue["recipients"],
            issue.get("outbound_message_id"), issue["sent_at"],
        ),
    )


async def issues(db: aiosqlite.Connection, list_id: int) -> list[dict]:
    """Every issue of a list, oldest first."""
    return await many(
        db,
        "SELECT volume, issue, posts, recipients, outbound_message_id, sent_at FROM digest_issues"
        " WHERE list_id = ? ORDER BY id",
        (list_id,),
    )


async def withdraw_archived(db: aiosqlite.Connection, archive_ids: Sequence[int]) -> list[dict]:
    """Take the posts with these archive ids out of the queue (they became confidential); returns
    list_id, archive_id and sender of each, for sending them to the entitled digest readers instead."""
    found: list[dict] = []
    for start in range(0, len(archive_ids), 500):  # well under SQLite's parameter limit
        chunk = list(archive_ids[start : start + 500])
        marks = ", ".join("?" for _ in chunk)
        found += await many(
            db, f"DELETE FROM digest_queue WHERE archive_id IN ({marks}) RETURNING list_id, archive_id, sender", chunk
        )
    return found


async def queued_issues(db: aiosqlite.Connection) -> list[dict]:
    """Issues built but not delivered yet (every list): list_id, volume, issue, outbound_message_id, content."""
    return await many(
        db,
        "SELECT i.list_id, i.volume, i.issue, i.outbound_message_id, m.content FROM digest_issues i"
        " JOIN outbound_messages m ON m.id = i.outbound_message_id ORDER BY i.id",
    )
