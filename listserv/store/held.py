"""Held posts. Source of truth: what waits for a moderator, and every decision taken on it.

held_ids (0008_held_remark.sql), the Message-IDs of each held post, is
rebuilt from held.raw: a row whose ids_indexed is 0 is read again.
"""

from __future__ import annotations

import json
import time
from typing import Sequence

import aiosqlite

from listserv.store.rows import change, insert, many, one

_FIELDS = (
    "h.id, l.address AS list, h.list_id, h.inbound_id, h.role, h.sender, h.mail_from, h.subject,"
    " h.reasons, h.confidential, h.received_at, h.decision, h.decided_by, h.decided_at, h.decision_reason, h.auth"
)
_FROM = " FROM held h JOIN lists l ON l.id = h.list_id"


def _decoded(row: dict | None) -> dict | None:
    if row is not None:
        row["reasons"] = json.loads(row["reasons"])
        row["confidential"] = bool(row["confidential"])
    return row


async def hold(db: aiosqlite.Connection, list_id: int, item: dict) -> int:
    """Insert a held post. item: inbound_id, role, sender, mail_from, subject, reasons, confidential, raw, received_at,
    auth (its authentication result as JSON, when checked), and ids: (own Message-ID, ids it refers to) when known,
    else its ids are read at the next re-marking."""
    held_id = await insert(
        db,
        "INSERT INTO held (list_id, inbound_id, role, sender, mail_from, subject, reasons, confidential, raw, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            list_id, item.get("inbound_id"), item.get("role", "post"), item.get("sender", ""),
            item.get("mail_from", ""), item.get("subject", ""), json.dumps(item["reasons"]),
            int(bool(item.get("confidential"))), item["raw"], item.get("received_at", time.time()),
        ),
    )
    if item.get("auth"):  # the authentication result (listserv.auth.result, JSON), when it was checked
        await db.execute("UPDATE held SET auth = ? WHERE id = ?", (item["auth"], held_id))
    if item.get("ids") is not None:
        await index_ids(db, held_id, *item["ids"])
    return held_id


async def waiting(db: aiosqlite.Connection, list_id: int | None = None) -> list[dict]:
    where = " WHERE h.decision IS NULL" + (" AND h.list_id = ?" if list_id is not None else "")
    params = (list_id,) if list_id is not None else ()
    return [_decoded(r) for r in await many(db, "SELECT " + _FIELDS + _FROM + where + " ORDER BY h.id", params)]


async def get(db: aiosqlite.Connection, held_id: int) -> dict | None:
    return _decoded(await one(db, "SELECT " + _FIELDS + _FROM + " WHERE h.id = ?", (held_id,)))


async def raw(db: aiosqlite.Connection, held_id: int) -> bytes | None:
    row = await one(db, "SELECT raw FROM held WHERE id = ?", (held_id,))
    return row["raw"] if row else None


async def decide(db: aiosqlite.Connection, held_id: int, decision: str, by: str, reason: str = "") -> bool:
    """Record a decision once; False when the post was already decided (nothing changes)."""
    return await change(
        db,
        "UPDATE held SET decision = ?, decided_by = ?, decided_at = ?, decision_reason = ?"
        " WHERE id = ? AND decision IS NULL",
        (decision, by, time.time(), reason, held_id),
    ) == 1


async def waiting_since(db: aiosqlite.Connection, before: float, list_id: int | None = None) -> list[dict]:
    """Undecided held posts received before `before` (unix time), oldest first; of one list or all."""
    where = " WHERE h.decision IS NULL AND h.received_at < ?" + (" AND h.list_id = ?" if list_id is not None else "")
    params = (before, list_id) if list_id is not None else (before,)
    return [_decoded(r) for r in await many(db, "SELECT " + _FIELDS + _FROM + where + " ORDER BY h.id", params)]


async def purge_confidential(db: aiosqlite.Connection, list_id: int, before: float, now: float) -> int:
    """Drop the raw message and subject of the list's decided confidential held posts received before `before`.

    A post still waiting keeps everything: a moderator must be able to read it.
    """
    return await change(
        db,
        "UPDATE held SET raw = X'', subject = '', purged_at = ? WHERE list_id = ? AND confidential = 1"
        " AND purged_at IS NULL AND decision IS NOT NULL AND received_at < ?",
        (now, list_id, before),
    )


async def unindexed(db: aiosqlite.Connection, limit: int = 200) -> list[dict]:
    """Held posts whose Message-IDs are not in held_ids yet (id, list_id, raw), a batch at a time.

    A post held confidential needs no index (it cannot be re-marked), so it is
    only flagged as indexed.
    """
    await change(db, "UPDATE held SET ids_indexed = 1 WHERE ids_indexed = 0 AND confidential = 1")
    return await many(db, "SELECT id, list_id, raw FROM held WHERE ids_indexed = 0 ORDER BY id LIMIT ?", (limit,))


async def index_ids(db: aiosqlite.Connection, held_id: int, own: str, referenced: Sequence[str]) -> None:
    """Record a held post's own Message-ID and those it refers to, and flag it indexed."""
    rows = [(own, held_id, 1)] if own else []
    rows += [(other, held_id, 0) for other in dict.fromkeys(referenced) if other and other != own]
    await db.executemany("INSERT OR IGNORE INTO held_ids (message_id, held_id, own) VALUES (?, ?, ?)", rows)
    await change(db, "UPDATE held SET ids_indexed = 1 WHERE id = ?", (held_id,))


_MARKED = " RETURNING id, list_id, inbound_id, subject"


async def mark_referencing(db: aiosqlite.Connection, message_ids: Sequence[str]) -> list[dict]:
    """Mark confidential the held posts (any list, decided or not) whose own Message-ID or one they refer to
    is among these; returns those that changed (id, list_id, inbound_id, subject)."""
    return await many(
        db,
        "UPDATE held SET confidential = 1 WHERE confidential = 0 AND id IN"
        " (SELECT held_id FROM held_ids WHERE message_id IN (SELECT value FROM json_each(?)))" + _MARKED,
        (json.dumps(list(dict.fromkeys(message_ids))),),
    )


async def mark_in_threads(db: aiosqlite.Connection, thread_ids: Sequence[int]) -> list[dict]:
    """Mark confidential the held posts that name any post or placeholder of these threads of their own list."""
    return await many(
        db,
        "UPDATE held SET confidential = 1 WHERE confidential = 0 AND id IN"
        " (SELECT i.held_id FROM thread_map m JOIN held_ids i ON i.message_id = m.message_id"
        "  JOIN held h ON h.id = i.held_id AND h.list_id = m.list_id"
        "  WHERE m.thread_id IN (SELECT value FROM json_each(?)))" + _MARKED,
        (json.dumps(list(thread_ids)),),
    )


async def mark_if_known(db: aiosqlite.Connection, held_ids: Sequence[int]) -> list[dict]:
    """Mark confidential those of these held posts that name a Message-ID known to be confidential (any list)
    or one in a confidential thread of their list: rows just indexed, which no round has looked at yet."""
    return await many(
        db,
        "UPDATE held SET confidential = 1 WHERE confidential = 0 AND id IN (SELECT value FROM json_each(?)) AND ("
        " EXISTS (SELECT 1 FROM held_ids i JOIN confidential_ids c ON c.message_id = i.message_id"
        "  WHERE i.held_id = held.id)"
        " OR EXISTS (SELECT 1 FROM held_ids i JOIN thread_map m ON m.message_id = i.message_id"
        "  AND m.list_id = held.list_id JOIN threads t ON t.id = m.thread_id"
        "  WHERE i.held_id = held.id AND t.confidential = 1))" + _MARKED,
        (json.dumps(list(held_ids)),),
    )


async def own_ids(db: aiosqlite.Connection, held_ids: Sequence[int]) -> list[dict]:
    """(held_id, message_id) of these held posts' own Message-IDs."""
    return await many(
        db,
        "SELECT held_id, message_id FROM held_ids WHERE own = 1 AND held_id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(held_ids)),),
    )
