"""The archive. Source of truth: every accepted post (raw bytes and the fields extracted from it).

The raw message and the search text are packed together in messages.packed
(listserv.store.packing, 0018_packed_archive.sql); every function here takes
and gives them unpacked. The readable body text is not stored: it is read
from the raw message when a post is shown.
"""

from __future__ import annotations

import json
import time
from typing import Iterable, Sequence

import aiosqlite

from listserv.store import dictionaries, packing
from listserv.store.rows import insert, many, one

_FIELDS = (
    "id, list_id, message_id, date, received_at, sender, sender_name, subject,"
    " in_reply_to, refs, confidential, inbound_id, auth"
)


async def add(db: aiosqlite.Connection, list_id: int, post: dict) -> int:
    """Archive one post. post: message_id, date, sender, sender_name, subject, in_reply_to,
    refs, confidential, inbound_id, raw; and for search (0002_search.sql):
    search_text (listserv.archive.search.searchable_text of the body text; defaults to
    post["body_text"], the whole body, so a post is never unfindable), attachments
    (newline-separated names) and thread_id. It is indexed here, with the text it packs."""
    values = _values(list_id, post, await dictionaries.current(db))
    archive_id = await insert(db, _INSERT, values)
    await db.execute(_INDEX, (archive_id, *_indexed(post)))
    return archive_id


_INSERT = (
    "INSERT INTO messages (list_id, message_id, date, received_at, sender, sender_name, subject,"
    " in_reply_to, refs, confidential, inbound_id, packed, raw_length, attachments, thread_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INDEX = "INSERT INTO messages_fts (rowid, subject, sender_name, sender, search_text) VALUES (?, ?, ?, ?, ?)"


def _values(list_id: int, post: dict, dictionary: packing.Dictionary | None) -> tuple:
    """The _INSERT parameters of one post dict (see add)."""
    raw, text = post.get("raw"), _search_text(post)
    if "packed" in post and post.get("packed_with") == (dictionary.id if dictionary else 0):
        packed = post["packed"]  # packed by an import's parse worker with the dictionary that is still current
    else:
        packed = packing.pack(raw or b"", text, dictionary) if raw is not None or text else None
    return (
        list_id, post["message_id"], post["date"], post.get("received_at", time.time()),
        post.get("sender", ""), post.get("sender_name", ""), post.get("subject", ""),
        post.get("in_reply_to", ""), post.get("refs", ""),
        int(bool(post.get("confidential"))), post.get("inbound_id"), packed, None if raw is None else len(raw),
        post.get("attachments", ""), post.get("thread_id"),
    )


def _search_text(post: dict) -> str:
    return post.get("search_text", post.get("body_text", ""))


def _indexed(post: dict) -> tuple[str, str, str, str]:
    """What the index holds of a post: subject, sender_name, sender, search text (messages_fts's columns)."""
    return post.get("subject", ""), post.get("sender_name", ""), post.get("sender", ""), _search_text(post)


async def unpacked(db: aiosqlite.Connection, packed: bytes | None, raw_length: int | None) -> tuple[bytes | None, str]:
    """(raw or None, search text) of a row's packed column: its dictionary read from this connection if new."""
    if packed is None:
        return None, ""
    await dictionaries.load(db, packing.dictionary_of(packed))
    raw, text = packing.unpack(packed, raw_length or 0)
    return (None if raw_length is None else raw), text


async def record_auth(db: aiosqlite.Connection, archive_id: int, auth: str) -> None:
    """Keep the authentication result (listserv.auth.result, JSON) with an archived post that came by mail."""
    await db.execute("UPDATE messages SET auth = ? WHERE id = ?", (auth, archive_id))


async def has_message_id(db: aiosqlite.Connection, list_id: int, message_id: str) -> bool:
    return await one(db, "SELECT 1 FROM messages WHERE list_id = ? AND message_id = ?", (list_id, message_id)) is not None


async def get(db: aiosqlite.Connection, archive_id: int) -> dict | None:
    return await one(db, f"SELECT {_FIELDS} FROM messages WHERE id = ?", (archive_id,))


async def raw(db: aiosqlite.Connection, archive_id: int) -> bytes | None:
    """The raw message exactly as received; None when purged, never stored, or no such post."""
    row = await one(db, "SELECT packed, raw_length FROM messages WHERE id = ?", (archive_id,))
    return (await unpacked(db, row["packed"], row["raw_length"]))[0] if row else None


async def for_list(db: aiosqlite.Connection, list_id: int) -> list[dict]:
    return await many(db, f"SELECT {_FIELDS} FROM messages WHERE list_id = ? ORDER BY id", (list_id,))


async def count(db: aiosqlite.Connection, list_id: int) -> int:
    row = await one(db, "SELECT count(*) AS n FROM messages WHERE list_id = ?", (list_id,))
    return row["n"]


async def has_inbound_id(db: aiosqlite.Connection, inbound_id: int) -> bool:
    """True when a post from this inbound row is archived already (one row may reach several lists)."""
    return await one(db, "SELECT 1 FROM messages WHERE inbound_id = ?", (inbound_id,)) is not None


async def mark_confidential(db: aiosqlite.Connection, message_ids: list[str]) -> list[dict]:
    """Mark the archived posts with these Message-IDs (in any list) confidential; returns those that changed.

    Each returned row: id, list_id, message_id, in_reply_to, refs, thread_id.
    Search follows at once: it filters on messages.confidential, not on the
    FTS index.
    """
    return await _mark_where(db, "message_id", message_ids)


async def mark_replies_confidential(db: aiosqlite.Connection, message_ids: list[str]) -> list[dict]:
    """Mark the archived posts whose In-Reply-To is one of these ids (any list); returns those that changed."""
    return await _mark_where(db, "in_reply_to", message_ids)


async def mark_in_threads_confidential(db: aiosqlite.Connection, thread_ids: list[int]) -> list[dict]:
    """Mark every archived post of these threads confidential; returns those that changed (as mark_confidential)."""
    return await _mark_where(db, "thread_id", thread_ids)


async def _mark_where(db: aiosqlite.Connection, column: str, values: list) -> list[dict]:
    changed: list[dict] = []
    unique = list(dict.fromkeys(m for m in values if m))
    for start in range(0, len(unique), 500):  # well under SQLite's parameter limit
        chunk = unique[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        changed += await many(
            db,
            f"UPDATE messages SET confidential = 1 WHERE confidential = 0 AND {column} IN ({marks})"
            " RETURNING id, list_id, message_id, in_reply_to, refs, thread_id",
            chunk,
        )
    return changed


async def purge_confidential(db: aiosqlite.Connection, list_id: int, before: float, now: float) -> list[int]:
    """Drop the text of the list's confidential posts received (or dated) before `before`; returns their ids.

    Kept: ids, dates, sender and thread links (the thread map must survive).
    Gone: packed (raw and search text), subject and attachment names; the FTS
    index follows through its update trigger.
    """
    rows = await db.execute_fetchall(
        "UPDATE messages SET packed = NULL, raw_length = NULL, subject = '', attachments = '',"
        " purged_at = ? WHERE list_id = ? AND confidential = 1 AND purged_at IS NULL"
        " AND (received_at < ? OR date < ?) RETURNING id",
        (now, list_id, before, before),
    )
    return [row[0] for row in rows]


async def confidential_among(db: aiosqlite.Connection, archive_ids: list[int]) -> set[int]:
    """Those of the archive ids that are confidential posts (to flag and audit search results)."""
    found: set[int] = set()
    for start in range(0, len(archive_ids), 500):  # well under SQLite's parameter limit
        chunk = archive_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = await db.execute_fetchall(f"SELECT id FROM messages WHERE confidential = 1 AND id IN ({marks})", chunk)
        found.update(row[0] for row in rows)
    return found


# ---- bulk archiving, threads and export (listserv.archive.threading, .importer, .mbox) ----


async def add_many(db: aiosqlite.Connection, list_id: int, posts: Sequence[dict]) -> dict[str, int]:
    """Archive several posts (dicts as for add, Message-IDs new to the list) in one statement; Message-ID -> id."""
    if not posts:
        return {}
    dictionary = await dictionaries.current(db)
    await db.executemany(_INSERT, [_values(list_id, post, dictionary) for post in posts])
    rows = await db.execute_fetchall(
        "SELECT message_id, id FROM messages WHERE list_id = ? AND message_id IN (SELECT value FROM json_each(?))",
        (list_id, json.dumps([post["message_id"] for post in posts])),
    )
    ids = {row[0]: row[1] for row in rows}
    await db.executemany(_INDEX, [(ids[post["message_id"]], *_indexed(post)) for post in posts])
    return ids


async def existing(db: aiosqlite.Connection, list_id: int, message_ids: Iterable[str]) -> set[str]:
    """Those of the Message-IDs that the list's archive holds already (duplicate check of a batch)."""
    rows = await db.execute_fetchall(
        "SELECT message_id FROM messages WHERE list_id = ? AND message_id IN (SELECT value FROM json_each(?))",
        (list_id, json.dumps(list(message_ids))),
    )
    return {row[0] for row in rows}


_TREE_FIELDS = "id, message_id, date, sender, sender_name, subject, in_reply_to, refs, confidential"


async def in_thread(db: aiosqlite.Connection, thread_id: int) -> list[dict]:
    """The archived posts of a thread with their reference headers, oldest first (for the thread tree)."""
    return await many(
        db, f"SELECT {_TREE_FIELDS} FROM messages WHERE thread_id = ? ORDER BY date, id", (thread_id,)
    )


async def unthreaded(db: aiosqlite.Connection, list_id: int | None, count: int) -> list[dict]:
    """Up to count archived posts without a thread (archived before threading existed), oldest first."""
    where, params = ("AND list_id = ?", [list_id]) if list_id is not None else ("", [])
    return await many(
        db,
        f"SELECT list_id, {_TREE_FIELDS} FROM messages WHERE thread_id IS NULL {where} ORDER BY date, id LIMIT ?",
        (*params, count),
    )


async def set_thread_ids(db: aiosqlite.Connection, pairs: Sequence[tuple[int, int]]) -> None:
    """Set messages.thread_id from (thread_id, archive id) pairs."""
    await db.executemany("UPDATE messages SET thread_id = ? WHERE id = ?", pairs)


async def export_page(
    db: aiosqlite.Connection, list_id: int, after: tuple[float, int], count: int,
    since: float | None, until: float | None, include_confidential: bool,
) -> list[dict]:
    """The next count posts of a list in (date, id) order after the key `after`, for mbox export.

    Each row: id, date, sender, confidential, raw (None when the content was
    purged or never stored). since (inclusive) and until (exclusive) bound the date.
    """
    terms, params = ["list_id = ?", "(date, id) > (?, ?)"], [list_id, *after]
    if not include_confidential:
        terms.append("confidential = 0")
    for sql, value in (("date >= ?", since), ("date < ?", until)):
        if value is not None:
            terms.append(sql)
            params.append(value)
    rows = await many(
        db,
        f"SELECT id, date, sender, confidential, packed, raw_length FROM messages WHERE {' AND '.join(terms)}"
        " ORDER BY date, id LIMIT ?",
        (*params, count),
    )
    for row in rows:
        row["raw"] = (await unpacked(db, row.pop("packed"), row.pop("raw_length")))[0]
    return rows


async def count_confidential(
    db: aiosqlite.Connection, list_id: int, since: float | None, until: float | None
) -> int:
    """How many confidential posts of a list fall in the date range (what an export leaves out)."""
    terms, params = ["list_id = ?", "confidential = 1"], [list_id]
    for sql, value in (("date >= ?", since), ("date < ?", until)):
        if value is not None:
            terms.append(sql)
            params.append(value)
    row = await one(db, f"SELECT count(*) AS n FROM messages WHERE {' AND '.join(terms)}", params)
    return row["n"]
