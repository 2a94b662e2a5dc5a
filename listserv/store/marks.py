"""When periodic things last happened per list (the last VERP'd post, the last moderator reminder).

Source of truth: list_marks (migration 0005). A missing mark means "never".
"""

from __future__ import annotations

import aiosqlite

from listserv.store.rows import change, one


async def get(db: aiosqlite.Connection, list_id: int, name: str) -> float | None:
    """Unix time the named thing last happened on the list, or None if never."""
    row = await one(db, "SELECT at FROM list_marks WHERE list_id = ? AND name = ?", (list_id, name))
    return row["at"] if row else None


async def put(db: aiosqlite.Connection, list_id: int, name: str, at: float) -> None:
    """Record that the named thing happened at `at`."""
    await change(
        db,
        "INSERT INTO list_marks (list_id, name, at) VALUES (?, ?, ?)"
        " ON CONFLICT (list_id, name) DO UPDATE SET at = excluded.at",
        (list_id, name, at),
    )
