"""Bounce scores on members and the delivery failures awaiting bounce processing.

Source of truth: members.bounce_score with bounce_updated_at (the score as of
that time; it decays from there), bounce_last_at, bounce_disabled_at
(migration 0005), and delivery_failures.counted.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import aiosqlite

from listserv.store.rows import change, many, one

_STATE = "address, delivery, bounce_score, bounce_updated_at, bounce_last_at, bounce_disabled_at"


async def member(db: aiosqlite.Connection, list_id: int, address: str) -> dict | None:
    """One member's delivery and bounce state, or None when not a member."""
    return await one(db, f"SELECT {_STATE} FROM members WHERE list_id = ? AND address = ?", (list_id, address))


async def set_score(
    db: aiosqlite.Connection, list_id: int, address: str, score: float, updated_at: float, last_at: float
) -> None:
    """Store a member's score as of updated_at, and when the bounce that raised it came."""
    await change(
        db,
        "UPDATE members SET bounce_score = ?, bounce_updated_at = ?, bounce_last_at = ?"
        " WHERE list_id = ? AND address = ?",
        (score, updated_at, last_at, list_id, address),
    )


async def disable(db: aiosqlite.Connection, list_id: int, address: str, at: float) -> bool:
    """Stop deliveries to a bouncing member (delivery nomail); False when it had none to stop."""
    return await change(
        db,
        "UPDATE members SET delivery = 'nomail', bounce_disabled_at = ?"
        " WHERE list_id = ? AND address = ? AND delivery != 'nomail'",
        (at, list_id, address),
    ) == 1


async def scored(db: aiosqlite.Connection, list_id: int) -> list[dict]:
    """Members of a list with a score above zero, by address."""
    return await many(
        db,
        f"SELECT {_STATE} FROM members WHERE list_id = ? AND bounce_score > 0 ORDER BY address",
        (list_id,),
    )


async def decay_many(db: aiosqlite.Connection, list_id: int, rows: Iterable[tuple[float, float, str]]) -> None:
    """Store decayed scores: (score, updated_at, address) per member."""
    await db.executemany(
        "UPDATE members SET bounce_score = ?, bounce_updated_at = ? WHERE list_id = ? AND address = ?",
        [(score, at, list_id, address) for score, at, address in rows],
    )


async def uncounted_failures(db: aiosqlite.Connection, limit: int = 500) -> list[dict]:
    """Permanent delivery failures bounce processing has not looked at yet, oldest first."""
    return await many(
        db,
        "SELECT id, list_id, address, code, error, outbound_message_id, failed_at FROM delivery_failures"
        " WHERE counted = 0 ORDER BY id LIMIT ?",
        (limit,),
    )


async def mark_counted(db: aiosqlite.Connection, ids: Sequence[int]) -> None:
    await db.executemany("UPDATE delivery_failures SET counted = 1 WHERE id = ?", [(i,) for i in ids])
