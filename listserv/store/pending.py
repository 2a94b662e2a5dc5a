"""The pending_members table. Source of truth: confirmed requests to join, waiting for a moderator or decided."""

from __future__ import annotations

import aiosqlite

from listserv.store.rows import change, many, one

_COLUMNS = "id, list_id, address, name, requested_at, confirmed_at, decision, decided_by, decided_at, reason"


async def add(db: aiosqlite.Connection, list_id: int, request: dict) -> bool:
    """Queue one confirmed request (address, name, requested_at, confirmed_at); False when one waits already."""
    async with db.execute(
        "INSERT INTO pending_members (list_id, address, name, requested_at, confirmed_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (list_id, address) WHERE decision IS NULL DO NOTHING",
        (list_id, request["address"], request.get("name", ""), request["requested_at"], request["confirmed_at"]),
    ) as cur:
        return cur.rowcount == 1


async def waiting(db: aiosqlite.Connection, list_id: int) -> list[dict]:
    """Undecided requests of a list, oldest confirmation first."""
    return await many(
        db,
        f"SELECT {_COLUMNS} FROM pending_members WHERE list_id = ? AND decision IS NULL ORDER BY confirmed_at, id",
        (list_id,),
    )


async def waiting_for(db: aiosqlite.Connection, list_id: int, address: str) -> dict | None:
    """The undecided request of this address, or None."""
    return await one(
        db,
        f"SELECT {_COLUMNS} FROM pending_members WHERE list_id = ? AND address = ? AND decision IS NULL",
        (list_id, address),
    )


async def decide(
    db: aiosqlite.Connection, request_id: int, decision: str, by: str, now: float, reason: str = ""
) -> bool:
    """Record approved/denied; False when it was decided already (two moderators at once)."""
    return await change(
        db,
        "UPDATE pending_members SET decision = ?, decided_by = ?, decided_at = ?, reason = ?"
        " WHERE id = ? AND decision IS NULL",
        (decision, by, now, reason, request_id),
    ) == 1
