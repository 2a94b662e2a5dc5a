"""The confidential Message-IDs. Source of truth: confidential_ids (0006_confidential.sql), never rebuilt.

Every Message-ID known to belong to a confidential thread is here: each
confidential post the pipeline decided on, every id such a post named in
In-Reply-To or References, and every archived reply re-marked later. The set
only grows, so a thread never becomes non-confidential again, and it is kept
even when the list keeps no content. Lookups go by Message-ID across all lists:
a reply cross-posted elsewhere is as confidential there.
"""

from __future__ import annotations

import time
from typing import Iterable, Sequence

import aiosqlite

from listserv.store.rows import many, one

CHUNK = 500  # ids per statement, well under SQLite's parameter limit


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    unique = list(dict.fromkeys(i for i in ids if i))
    for start in range(0, len(unique), CHUNK):
        yield unique[start : start + CHUNK]


async def any_known(db: aiosqlite.Connection, ids: Sequence[str]) -> bool:
    """True when any of the Message-IDs belongs to a confidential thread (of any list)."""
    for chunk in _chunks(ids):
        marks = ", ".join("?" for _ in chunk)
        if await one(db, f"SELECT 1 FROM confidential_ids WHERE message_id IN ({marks}) LIMIT 1", chunk):
            return True
    return False


async def known(db: aiosqlite.Connection, ids: Sequence[str]) -> set[str]:
    """Those of the Message-IDs that belong to a confidential thread."""
    found: set[str] = set()
    for chunk in _chunks(ids):
        marks = ", ".join("?" for _ in chunk)
        rows = await many(db, f"SELECT DISTINCT message_id FROM confidential_ids WHERE message_id IN ({marks})", chunk)
        found.update(row["message_id"] for row in rows)
    return found


async def add(
    db: aiosqlite.Connection, list_id: int, message_id: str, date: float | None, named: Sequence[str] = ()
) -> None:
    """Record a confidential post (with its date) and the ids it named (without one); never removes anything."""
    now = time.time()
    rows = [(message_id, list_id, date, now)] if message_id else []
    rows += [(other, list_id, None, now) for other in dict.fromkeys(named) if other and other != message_id]
    await db.executemany(
        "INSERT INTO confidential_ids (message_id, list_id, date, marked_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (message_id, list_id) DO UPDATE SET date = coalesce(confidential_ids.date, excluded.date)",
        rows,
    )


async def for_list(db: aiosqlite.Connection, list_id: int) -> list[dict]:
    """Every confidential Message-ID of a list with its date, oldest mark first (tests, `archive thread`)."""
    return await many(
        db,
        "SELECT message_id, date, marked_at FROM confidential_ids WHERE list_id = ? ORDER BY marked_at, message_id",
        (list_id,),
    )
