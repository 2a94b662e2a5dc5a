"""Small query helpers shared by the table modules: rows come back as plain dicts.

Every call here is one round trip to aiosqlite's database thread
(execute_fetchall / execute_insert), not three (execute, fetch, close): on a
busy daemon those hand-offs, not SQLite, are what a query costs.
"""

from __future__ import annotations

from typing import Any, Iterable

import aiosqlite


async def one(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> dict | None:
    """The first row (callers put LIMIT 1 or a unique key in the query), or None."""
    rows = await db.execute_fetchall(sql, tuple(params))
    return dict(rows[0]) if rows else None


async def many(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> list[dict]:
    return [dict(row) for row in await db.execute_fetchall(sql, tuple(params))]


async def scalar(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> Any:
    rows = await db.execute_fetchall(sql, tuple(params))
    return rows[0][0] if rows else None


async def insert(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> int:
    row = await db.execute_insert(sql, tuple(params))
    return row[0]


async def change(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> int:
    """Run an UPDATE/DELETE; returns the number of rows it touched."""
    async with db.execute(sql, tuple(params)) as cur:
        return cur.rowcount
