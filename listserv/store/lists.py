"""The lists table. Source of truth: list addresses, descriptions and settings (JSON)."""

from __future__ import annotations

import json
import time
from typing import Sequence

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


async def delete(db: aiosqlite.Connection, list_id: int, inbound_ids: Sequence[int] = ()) -> None:
    """Delete a list and everything kept for it; inbound_ids: its processed inbound rows (the caller reads
    which rows were addressed to this list alone from their envelopes).

    The foreign keys cascade to members, held posts, the archive (the search
    index follows by trigger), threads, the thread map, confidential ids,
    digests, confirmations and marks. Removed here: what names the list
    without a cascading key, the copies still queued for it (a deleted list
    sends nothing), its delivery failures and audit rows (a later list may be
    given the same id and must not inherit them), and those inbound rows.
    """
    await change(db, "DELETE FROM outbound_messages WHERE list_id = ?", (list_id,))  # batches cascade
    await change(db, "DELETE FROM delivery_failures WHERE list_id = ?", (list_id,))
    await change(db, "DELETE FROM audit WHERE list_id = ?", (list_id,))
    for start in range(0, len(inbound_ids), 500):  # well under SQLite's parameter limit
        chunk = list(inbound_ids[start : start + 500])
        marks = ", ".join("?" for _ in chunk)
        await change(db, f"DELETE FROM inbound WHERE processed_at IS NOT NULL AND id IN ({marks})", chunk)
    await change(db, "DELETE FROM lists WHERE id = ?", (list_id,))
