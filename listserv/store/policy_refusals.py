"""Copies refused for policy reasons (DMARC, authentication, 5.7.x), counted per list, day and author domain.

Source of truth: policy_refusals (migration 0010). A row is reported once
(reported_at set) by the owners' daily report.
"""

from __future__ import annotations

from typing import Sequence

import aiosqlite

from listserv.store.rows import change, many


async def add(db: aiosqlite.Connection, list_id: int, day: str, author_domain: str, count: int, example: str) -> None:
    """Count `count` more refusals of posts by author_domain on day; the first example text is kept."""
    await change(
        db,
        "INSERT INTO policy_refusals (list_id, day, author_domain, refusals, example) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (list_id, day, author_domain) DO UPDATE SET refusals = refusals + excluded.refusals,"
        " reported_at = NULL",
        (list_id, day, author_domain, count, example[:300]),
    )


async def unreported(db: aiosqlite.Connection, list_id: int) -> list[dict]:
    """Rows of a list not reported to the owners yet, by day and most refused first."""
    return await many(
        db,
        "SELECT day, author_domain, refusals, example FROM policy_refusals"
        " WHERE list_id = ? AND reported_at IS NULL ORDER BY day, refusals DESC, author_domain",
        (list_id,),
    )


async def lists_with_unreported(db: aiosqlite.Connection) -> list[int]:
    """Ids of the lists that have refusals the owners have not been told about."""
    rows = await many(db, "SELECT DISTINCT list_id FROM policy_refusals WHERE reported_at IS NULL ORDER BY list_id")
    return [row["list_id"] for row in rows]


async def mark_reported(db: aiosqlite.Connection, list_id: int, days: Sequence[str], at: float) -> None:
    """Record that the owners were told about these days' refusals."""
    await db.executemany(
        "UPDATE policy_refusals SET reported_at = ? WHERE list_id = ? AND day = ? AND reported_at IS NULL",
        [(at, list_id, day) for day in days],
    )


async def for_list(db: aiosqlite.Connection, list_id: int) -> list[dict]:
    """Every row of a list, for tests and status: day, author_domain, refusals, reported_at."""
    return await many(
        db,
        "SELECT day, author_domain, refusals, example, reported_at FROM policy_refusals WHERE list_id = ?"
        " ORDER BY day, author_domain",
        (list_id,),
    )
