"""The inbound queue. Source of truth: every acknowledged message, until its effects are committed.

A row is written before the 250 and marked processed in the same transaction
as all of the pipeline's effects, so a crash between the two redoes the work.
Marking it processed also empties its raw bytes: only an unprocessed row is
ever redone, and after processing the message lives on only where the list's
policy put it (the archive, a held row, the outbound queue). The row itself
stays as metadata (envelope, arrival, outcome).
"""

from __future__ import annotations

import json
import time
from typing import Iterable

import aiosqlite

from listserv.store.rows import change, many, one


async def enqueue(
    db: aiosqlite.Connection, mail_from: str, rcpt_tos: Iterable[str], raw: bytes, peer: str = "", helo: str = ""
) -> int:
    """Insert one row in a single statement (intake's hot path: one round trip to the database thread)."""
    row = await db.execute_insert(
        "INSERT INTO inbound (received_at, mail_from, rcpt_tos, peer, helo, raw) VALUES (?, ?, ?, ?, ?, ?)",
        (time.time(), mail_from, json.dumps(list(rcpt_tos)), peer, helo, raw),
    )
    return row[0]


def _decoded(row: dict) -> dict:
    row["rcpt_tos"] = json.loads(row["rcpt_tos"])
    return row


async def pending(db: aiosqlite.Connection, after_id: int = 0, limit: int = 100) -> list[dict]:
    """Unprocessed rows in arrival order."""
    rows = await many(
        db,
        "SELECT id, received_at, mail_from, rcpt_tos, peer, helo, raw FROM inbound"
        " WHERE processed_at IS NULL AND id > ? ORDER BY id LIMIT ?",
        (after_id, limit),
    )
    return [_decoded(row) for row in rows]


async def get(db: aiosqlite.Connection, inbound_id: int) -> dict | None:
    row = await one(db, "SELECT * FROM inbound WHERE id = ?", (inbound_id,))
    return _decoded(row) if row else None


async def is_processed(db: aiosqlite.Connection, inbound_id: int) -> bool:
    row = await one(db, "SELECT processed_at FROM inbound WHERE id = ?", (inbound_id,))
    return row is None or row["processed_at"] is not None


async def mark_processed(db: aiosqlite.Connection, inbound_id: int, outcome: dict) -> None:
    """Record the outcome and empty the raw bytes (secure_delete zeroes them in the file)."""
    await change(
        db,
        "UPDATE inbound SET processed_at = ?, outcome = ?, raw = X'' WHERE id = ?",
        (time.time(), json.dumps(outcome, sort_keys=True), inbound_id),
    )


async def purge_processed(db: aiosqlite.Connection, older_than: float) -> int:
    """Drop processed rows older than the cut-off; their content lives on in messages/held."""
    return await change(
        db,
        "DELETE FROM inbound WHERE processed_at IS NOT NULL AND processed_at < ?"
        " AND id NOT IN (SELECT inbound_id FROM held WHERE inbound_id IS NOT NULL AND decision IS NULL)",
        (older_than,),
    )


async def processed_envelopes(db: aiosqlite.Connection, after_id: int, limit: int) -> list[dict]:
    """Processed rows after after_id in id order, each {id, rcpt_tos} (which lists a row was for)."""
    rows = await many(
        db, "SELECT id, rcpt_tos FROM inbound WHERE processed_at IS NOT NULL AND id > ? ORDER BY id LIMIT ?",
        (after_id, limit),
    )
    return [_decoded(row) for row in rows]


async def count_pending(db: aiosqlite.Connection) -> int:
    row = await one(db, "SELECT count(*) AS n FROM inbound WHERE processed_at IS NULL")
    return row["n"]


async def pending_ids(db: aiosqlite.Connection, after_id: int = 0, limit: int = 100) -> list[int]:
    """Ids of unprocessed rows in arrival order (the raw bytes are fetched one at a time)."""
    rows = await db.execute_fetchall(
        "SELECT id FROM inbound WHERE processed_at IS NULL AND id > ? ORDER BY id LIMIT ?", (after_id, limit)
    )
    return [row[0] for row in rows]


async def scrub_archived(db: aiosqlite.Connection, archive_ids: list[int]) -> None:
    """Empty the inbound bytes of these archived posts (re-marked confidential, or purged by retention)."""
    for start in range(0, len(archive_ids), 500):  # well under SQLite's parameter limit
        chunk = archive_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        await change(
            db,
            f"UPDATE inbound SET raw = X'' WHERE raw <> X'' AND id IN"
            f" (SELECT inbound_id FROM messages WHERE id IN ({marks}) AND inbound_id IS NOT NULL)",
            chunk,
        )


async def scrub_held(db: aiosqlite.Connection, held_ids: list[int]) -> None:
    """Empty the inbound bytes of these held posts (re-marked confidential after they were held)."""
    await change(
        db,
        "UPDATE inbound SET raw = X'' WHERE raw <> X'' AND id IN (SELECT inbound_id FROM held"
        " WHERE id IN (SELECT value FROM json_each(?)) AND inbound_id IS NOT NULL)",
        (json.dumps(list(held_ids)),),
    )
