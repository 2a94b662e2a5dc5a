"""The lists table. Source of truth: list addresses, descriptions and settings (JSON)."""

from __future__ import annotations

import json
import time

import aiosqlite

from listserv.store.rows import change, insert, many, one

_SELECT = """
SELECT l.id, l.address, l.description, l.settings, l.created_at,
       (SELECT count(*) FROM members m WHERE m.list_id = l.id) AS members
FROM lists l
"""


def _decoded(row: dict | None) -> dict | None:
    if row is not None:
        row["settings"] = json.loads(row["settings"])
    return row


async def create(db: aiosqlite.Connection, address: str, description: str, settings: dict) -> int:
    return await insert(
        db,
        "INSERT INTO lists (address, description, settings, created_at) VALUES (?, ?, ?, ?)",
        (address, description, json.dumps(settings, sort_keys=True), time.time()),
    )


async def get(db: aiosqlite.Connection, address: str) -> dict | None:
    return _decoded(await one(db, _SELECT + " WHERE l.address = ?", (address,)))


async def get_by_id(db: aiosqlite.Connection, list_id: int) -> dict | None:
    return _decoded(await one(db, _SELECT + " WHERE l.id = ?", (list_id,)))


async def all_lists(db: aiosqlite.Connection) -> list[dict]:
    return [_decoded(row) for row in await many(db, _SELECT + " ORDER BY l.address")]


async def exists(db: aiosqlite.Connection, address: str) -> bool:
    return await one(db, "SELECT 1 FROM lists WHERE address = ?", (address,)) is not None


async def update(db: aiosqlite.Connection, list_id: int, description: str, settings: dict) -> None:
    await change(
        db,
        "UPDATE lists SET description = ?, settings = ? WHERE id = ?",
        (description, json.dumps(settings, sort_keys=True), list_id),
    )


async def delete(db: aiosqlite.Connection, list_id: int) -> None:
    await change(db, "DELETE FROM lists WHERE id = ?", (list_id,))
