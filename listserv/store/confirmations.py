"""The secrets and confirmations tables. Source of truth: the signing secret and every token still out.

A token is only as good as its row: the random nonce finds the row, the row
holds what confirming does, and used_at makes it work once. Rows are purged
some time after they expire (listserv.confirm decides when).
"""

from __future__ import annotations

import time

import aiosqlite

from listserv.store.rows import change, one

_COLUMNS = "id, list_id, nonce, action, address, name, requested_by, created_at, expires_at, used_at, held_id"


async def secret(db: aiosqlite.Connection, name: str, fresh: bytes) -> bytes:
    """The named secret; stores `fresh` first when there is none, so every process ends with the same one."""
    await change(
        db,
        "INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
        (name, fresh, time.time()),
    )
    row = await one(db, "SELECT value FROM secrets WHERE name = ?", (name,))
    return bytes(row["value"])


async def existing_secret(db: aiosqlite.Connection, name: str) -> bytes | None:
    """The named secret, or None when none was made yet (then no token was ever issued); reads only."""
    row = await one(db, "SELECT value FROM secrets WHERE name = ?", (name,))
    return bytes(row["value"]) if row else None


async def add(db: aiosqlite.Connection, list_id: int, token: dict) -> int | None:
    """Insert one confirmation; None when the nonce is taken already (the caller draws another)."""
    async with db.execute(
        "INSERT INTO confirmations"
        " (list_id, nonce, action, address, name, requested_by, created_at, expires_at, held_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (nonce) DO NOTHING",
        (
            list_id, token["nonce"], token["action"], token["address"], token.get("name", ""),
            token.get("requested_by", ""), token["created_at"], token["expires_at"], token.get("held_id"),
        ),
    ) as cur:
        return cur.lastrowid if cur.rowcount == 1 else None


async def get(db: aiosqlite.Connection, nonce: str) -> dict | None:
    return await one(db, f"SELECT {_COLUMNS} FROM confirmations WHERE nonce = ?", (nonce,))


async def latest_open(db: aiosqlite.Connection, list_id: int, action: str, address: str, now: float) -> dict | None:
    """The newest unused, unexpired confirmation of this kind for this address, or None."""
    return await one(
        db,
        f"SELECT {_COLUMNS} FROM confirmations WHERE list_id = ? AND action = ? AND address = ?"
        " AND used_at IS NULL AND expires_at > ? ORDER BY created_at DESC LIMIT 1",
        (list_id, action, address, now),
    )


async def open_for_held(db: aiosqlite.Connection, held_id: int, now: float) -> dict | None:
    """The newest unused, unexpired token that decides this held post, or None."""
    return await one(
        db,
        f"SELECT {_COLUMNS} FROM confirmations WHERE held_id = ? AND used_at IS NULL AND expires_at > ?"
        " ORDER BY created_at DESC LIMIT 1",
        (held_id, now),
    )


async def use(db: aiosqlite.Connection, confirmation_id: int, now: float) -> bool:
    """Mark a confirmation used; False when it was used already (a token works once)."""
    return await change(
        db, "UPDATE confirmations SET used_at = ? WHERE id = ? AND used_at IS NULL", (now, confirmation_id)
    ) == 1


async def purge(db: aiosqlite.Connection, expired_before: float) -> int:
    """Forget confirmations that expired before the cut-off; returns how many."""
    return await change(db, "DELETE FROM confirmations WHERE expires_at < ?", (expired_before,))


async def replace_secret(db: aiosqlite.Connection, name: str, value: bytes) -> None:
    """Rotate a secret: every token signed with the old one stops working (e.g. after a database leak)."""
    await change(
        db,
        "INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value, created_at = excluded.created_at",
        (name, value, time.time()),
    )
