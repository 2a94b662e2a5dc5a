"""Small query helpers shared by the table modules: rows come back as plain dicts."""

from __future__ import annotations

from typing import Any, Iterable

import aiosqlite


async def one(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> dict | None:
    async with db.execute(sql, tuple(params)) as cur:
        row = await cur.fetchone()
    return dict(row) if row is not None else None


async def many(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> list[dict]:
    async with db.execute(sql, tuple(params)) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def scalar(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> Any:
    async with db.execute(sql, tuple(params)) as cur:
        row = await cur.fetchone()
    return row[0] if row is not None else None


async def insert(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> int:
    async with db.execute(sql, tuple(params)) as cur:
        return cur.lastrowid


async def change(db: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()) -> int:
    """Run an UPDATE/DELETE; returns the number of rows it touched."""
    async with db.execute(sql, tuple(params)) as cur:
        return cur.rowcount
