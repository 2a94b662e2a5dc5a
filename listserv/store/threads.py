"""Threads and the Message-ID -> thread map (0003_threads.sql): the SQL behind listserv.archive.threading.

Source of truth: threads and thread_map are never rebuilt from anything else;
the map outlives a post's content (it is kept when the content is not stored or
has been purged). messages.thread_id is kept in step with every merge here.

Lists of ids reach SQLite as one JSON array parameter read with json_each, so a
batch of thousands of Message-IDs is one statement and one round trip to the
database thread, whatever SQLite's limit on parameters.
"""

from __future__ import annotations

import json
from typing import Iterable, Sequence

import aiosqlite

_THREAD = "id, list_id, subject, started, last, messages, confidential, merged_into"
_MAP = "message_id, thread_id, seen, archive_id, date, confidential, joined_by_subject"


async def _rows(db: aiosqlite.Connection, sql: str, args: Sequence) -> list[dict]:
    return [dict(row) for row in await db.execute_fetchall(sql, tuple(args))]


async def map_rows(db: aiosqlite.Connection, list_id: int, message_ids: Iterable[str]) -> list[dict]:
    """The thread_map rows of these Message-IDs in a list (those that exist)."""
    return await _rows(
        db,
        f"SELECT {_MAP} FROM thread_map WHERE list_id = ? AND message_id IN (SELECT value FROM json_each(?))",
        (list_id, json.dumps(list(message_ids))),
    )


async def by_ids(db: aiosqlite.Connection, thread_ids: Iterable[int]) -> list[dict]:
    """The threads rows with these ids (merged ones included; see merged_into)."""
    return await _rows(
        db, f"SELECT {_THREAD} FROM threads WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(thread_ids)),)
    )


async def by_subjects(db: aiosqlite.Connection, list_id: int, subjects: Iterable[str], since: float) -> list[dict]:
    """Live threads of a list whose normalised subject is one of these and whose last post is not before since."""
    return await _rows(
        db,
        f"SELECT {_THREAD} FROM threads INDEXED BY threads_by_subject WHERE list_id = ? AND merged_into IS NULL"
        " AND subject IN (SELECT value FROM json_each(?)) AND last >= ?",
        (list_id, json.dumps(list(subjects)), since),
    )


async def next_id(db: aiosqlite.Connection) -> int:
    """The id the next new thread gets; only meaningful inside the writer's transaction."""
    rows = await db.execute_fetchall("SELECT coalesce(max(id), 0) + 1 FROM threads")
    return rows[0][0]


async def insert_threads(db: aiosqlite.Connection, rows: Sequence[dict]) -> None:
    """Create threads with the ids the threader chose; a confidential one keeps no subject."""
    if not rows:
        return  # an empty executemany still costs a round trip to the database thread
    await db.executemany(
        "INSERT INTO threads (id, list_id, subject, started, last, messages, confidential)"
        " VALUES (:id, :list_id, CASE WHEN :confidential THEN '' ELSE :subject END, :started, :last, :messages,"
        " :confidential)",
        rows,
    )


async def update_threads(db: aiosqlite.Connection, rows: Sequence[dict]) -> None:
    """Store new figures of live threads; the confidential flag can only rise, and then the subject goes."""
    if not rows:
        return
    await db.executemany(
        "UPDATE threads SET started = :started, last = :last, messages = :messages,"
        " confidential = max(confidential, :confidential),"
        " subject = CASE WHEN max(confidential, :confidential) THEN '' ELSE subject END WHERE id = :id",
        rows,
    )


async def upsert_map(db: aiosqlite.Connection, list_id: int, rows: Sequence[dict]) -> None:
    """Insert or update thread_map rows (message_id, thread_id, seen, archive_id, date, confidential, joined_by_subject).

    A stored archive_id is never replaced by NULL, a seen row never turns back
    into a placeholder, and the confidential flag never goes down.
    """
    if not rows:
        return
    await db.executemany(
        "INSERT INTO thread_map (list_id, message_id, thread_id, seen, archive_id, date, confidential, joined_by_subject)"
        " VALUES (:list_id, :message_id, :thread_id, :seen, :archive_id, :date, :confidential, :joined_by_subject)"
        " ON CONFLICT (list_id, message_id) DO UPDATE SET thread_id = excluded.thread_id,"
        " seen = max(thread_map.seen, excluded.seen), archive_id = coalesce(excluded.archive_id, thread_map.archive_id),"
        " date = coalesce(excluded.date, thread_map.date),"
        " confidential = max(thread_map.confidential, excluded.confidential),"
        " joined_by_subject = excluded.joined_by_subject",
        [{"list_id": list_id, **row} for row in rows],
    )


async def merge(db: aiosqlite.Connection, old: int, into: int) -> None:
    """Move everything of thread old into thread into: map rows, archived posts, and redirects to old.

    The figures of `into` are the caller's (update_threads); old stays as a
    redirect so that its number keeps finding the posts.
    """
    await db.execute("UPDATE thread_map SET thread_id = ? WHERE thread_id = ?", (into, old))
    await db.execute("UPDATE messages SET thread_id = ? WHERE thread_id = ?", (into, old))
    await db.execute("UPDATE threads SET merged_into = ? WHERE merged_into = ? OR id = ?", (into, old, old))


async def get(db: aiosqlite.Connection, thread_id: int) -> dict | None:
    """The live thread a number names: itself, or the thread it was merged into; None if unknown."""
    rows = await _rows(db, f"SELECT {_THREAD} FROM threads WHERE id = ?", (thread_id,))
    if rows and rows[0]["merged_into"] is not None:
        rows = await _rows(db, f"SELECT {_THREAD} FROM threads WHERE id = ?", (rows[0]["merged_into"],))
    return rows[0] if rows else None


async def for_list(db: aiosqlite.Connection, list_id: int) -> list[dict]:
    """Every thread of a list, merged ones included, by id (tests, diagnostics)."""
    return await _rows(db, f"SELECT {_THREAD} FROM threads WHERE list_id = ? ORDER BY id", (list_id,))


async def map_for_list(db: aiosqlite.Connection, list_id: int) -> list[dict]:
    """The whole thread map of a list, by Message-ID (tests, diagnostics)."""
    return await _rows(db, f"SELECT {_MAP} FROM thread_map WHERE list_id = ? ORDER BY message_id", (list_id,))


async def confidential_referenced(db: aiosqlite.Connection, list_id: int, message_ids: Iterable[str]) -> bool:
    """True when any of these Message-IDs is in a confidential thread of the list (placeholders included)."""
    rows = await _rows(
        db,
        "SELECT 1 FROM thread_map AS m JOIN threads AS t ON t.id = m.thread_id"
        " WHERE m.list_id = ? AND m.message_id IN (SELECT value FROM json_each(?)) AND t.confidential = 1 LIMIT 1",
        (list_id, json.dumps(list(message_ids))),
    )
    return bool(rows)


async def live_threads_of(db: aiosqlite.Connection, list_id: int, message_ids: Iterable[str]) -> list[int]:
    """The live threads of a list that these Message-IDs are in (posts and placeholders; map rows point at live ones)."""
    rows = await db.execute_fetchall(
        "SELECT DISTINCT thread_id FROM thread_map WHERE list_id = ? AND message_id IN (SELECT value FROM json_each(?))",
        (list_id, json.dumps(list(message_ids))),
    )
    return [row[0] for row in rows]


async def raise_confidential(db: aiosqlite.Connection, thread_ids: Sequence[int]) -> None:
    """Make these threads confidential (listserv.confidential.thread.remark); the flag never goes down.

    Their stored subject goes too: it only serves the subject fallback, which
    never joins a confidential thread, and retention must not find it left.
    """
    await db.execute(
        "UPDATE threads SET confidential = 1, subject = '' WHERE confidential = 0"
        " AND id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(thread_ids)),),
    )


async def page_for_list(
    db: aiosqlite.Connection, list_id: int, include_confidential: bool, limit: int,
    before: int | None = None, after: int | None = None,
) -> list[dict]:
    """Up to limit of a list's threads by latest visible post, counted from the archived posts a reader may see.

    Keyset pages: the threads whose latest visible post comes before (newest
    first) or after (oldest first) the post numbered `before`/`after`, in
    (date, thread_id) order; neither: the newest. A cursor that is not a
    visible post of the list gives no rows, so a guessed number tells nothing
    about a confidential post.

    The walk goes down the list's posts by (date, thread_id) (index
    messages_thread_walk, 0017) and keeps a post only when no later visible
    post of its thread exists (one probe of messages_thread_pages), so a page
    costs about its own posts, however deep it is; the old GROUP BY over every
    post cost 45-110 ms at 100,000 posts, this under 1.5 ms.

    Each row: thread_id, last (date of its latest visible post), last_id (that
    post's number: the cursor of the next page), posts (visible posts),
    first_id (its earliest visible post) and that post's subject, sender,
    sender_name and confidential flag. Without include_confidential,
    confidential posts count for nothing: a thread of only confidential posts
    is not there at all.
    """
    cursor, order = (before, "DESC") if after is None else (after, "ASC")
    params = {"list": list_id, "all": 1 if include_confidential else 0, "cursor": cursor, "limit": limit}
    return [dict(row) for row in await db.execute_fetchall(_page_sql(cursor is not None, order), params)]


# A post a reader may see: confidential IN (0, 0) for the public view, IN (0, 1) for the entitled, so that
# SQLite seeks messages_thread_pages (list_id, thread_id, confidential, date) once per value instead of scanning.
_VISIBLE = "{0}.confidential IN (0, :all)"
_SAME_THREAD = "n.list_id = :list AND n.thread_id = {0}.thread_id AND n.confidential IN (0, :all)"


def _page_sql(keyset: bool, order: str) -> str:
    """page_for_list's query: latest visible post of each thread, walked in `order` from the cursor when keyset.

    The latest post of a thread is the one with the highest (date, id); the
    walk's order (date, thread_id) is that of messages_thread_walk, so SQLite
    reads the index in order and stops after `limit` threads.
    """
    compare = "<" if order == "DESC" else ">"
    cursor = (
        f" AND (m.date, m.thread_id) {compare} (SELECT date, thread_id FROM messages WHERE id = :cursor"
        f" AND list_id = :list AND {_VISIBLE.format('messages')})" if keyset else ""
    )
    return (
        "WITH page AS (SELECT m.thread_id, m.date AS last, m.id AS last_id FROM messages AS m"
        f" WHERE m.list_id = :list AND m.thread_id IS NOT NULL AND {_VISIBLE.format('m')}{cursor}"
        f" AND NOT EXISTS (SELECT 1 FROM messages AS n WHERE {_SAME_THREAD.format('m')}"
        f" AND (n.date, n.id) > (m.date, m.id)) ORDER BY m.date {order}, m.thread_id {order} LIMIT :limit),"
        f" counted AS (SELECT page.*, (SELECT count(*) FROM messages AS n WHERE {_SAME_THREAD.format('page')})"
        f" AS posts, (SELECT min(n.id) FROM messages AS n WHERE {_SAME_THREAD.format('page')}) AS first_id"
        " FROM page)"
        " SELECT counted.*, f.subject, f.sender, f.sender_name, f.confidential FROM counted"
        f" JOIN messages AS f ON f.id = counted.first_id ORDER BY counted.last {order}, counted.thread_id {order}"
    )
