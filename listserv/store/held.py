"""Held posts. Source of truth: what waits for a moderator, and every decision taken on it."""

from __future__ import annotations

import json
import time

import aiosqlite

from listserv.store.rows import change, insert, many, one

_FIELDS = (
    "h.id, l.address AS list, h.list_id, h.inbound_id, h.role, h.sender, h.mail_from, h.subject,"
    " h.reasons, h.confidential, h.received_at, h.decision, h.decided_by, h.decided_at, h.decision_reason"
)
_FROM = " FROM held h JOIN lists l ON l.id = h.list_id"


def _decoded(row: dict | None) -> dict | None:
    if row is not None:
        row["reasons"] = json.loads(row["reasons"])
        row["confidential"] = bool(row["confidential"])
    return row


async def hold(db: aiosqlite.Connection, list_id: int, item: dict) -> int:
    """Insert a held post. item: inbound_id, role, sender, mail_from, subject, reasons, confidential, raw, received_at."""
    return await insert(
        db,
        "INSERT INTO held (list_id, inbound_id, role, sender, mail_from, subject, reasons, confidential, raw, received_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            list_id, item.get("inbound_id"), item.get("role", "post"), item.get("sender", ""),
            item.get("mail_from", ""), item.get("subject", ""), json.dumps(item["reasons"]),
            int(bool(item.get("confidential"))), item["raw"], item.get("received_at", time.time()),
        ),
    )


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
