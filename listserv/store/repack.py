"""Pack the posts of an archive again: in place by migration 0018, and with a first dictionary by compact.

pack_archive runs inside that migration's transaction, between its two
halves: the old columns raw and search_text are still there, packed is
empty. A dictionary is trained on posts spread over the whole archive first,
so every post is packed with it. The migration is one transaction: stopped
half-way (kill, power), the database is the old one and the next start does
it again.

with_first_dictionary serves an archive fed by mail alone, whose posts were
packed without a dictionary because none had been trained: `archive compact`
trains one on them and packs them again.
"""

from __future__ import annotations

import sys
from typing import Callable

import aiosqlite

from listserv.store import dictionaries, packing
from listserv.store.rows import many, scalar

BATCH = 1000  # rows read and written per statement
PROGRESS_EVERY = 5000  # a progress line on stderr after this many rows


def _say(line: str) -> None:
    print(f"listserv: {line}", file=sys.stderr, flush=True)


async def pack_archive(db: aiosqlite.Connection, say: Callable[[str], None] = _say) -> int:
    """Train the archive's dictionary and pack every post; returns how many were packed."""
    total = await scalar(db, "SELECT count(*) FROM messages")
    dictionary = await _trained(db, total)
    done, last = 0, 0
    while rows := await many(
        db, "SELECT id, raw, search_text FROM messages WHERE id > ? ORDER BY id LIMIT ?", (last, BATCH)
    ):
        packed = [_packed(row, dictionary) for row in rows]
        await db.executemany("UPDATE messages SET packed = ?, raw_length = ? WHERE id = ?", packed)
        done, last = done + len(rows), rows[-1]["id"]
        if done % PROGRESS_EVERY < BATCH or done == total:
            say(f"packing the archive (migration 0018): {done} of {total} posts")
    if done:
        say("the old copies' pages are free now: `listserv archive compact` gives them back to the disk")
    return done


async def with_first_dictionary(db: aiosqlite.Connection) -> int:
    """Train the archive's first dictionary on its posts and pack every post again with it; returns how many.

    Nothing happens when the archive has a dictionary already (its posts were packed with one) or too few posts
    to learn from. The search text does not change, so the index is not touched (0018's update trigger).
    """
    if await dictionaries.current(db) is not None:
        return 0
    total = await scalar(db, "SELECT count(*) FROM messages WHERE raw_length IS NOT NULL")
    step = max(1, total // packing.TRAIN_SAMPLES)
    rows = await many(db, "SELECT packed, raw_length FROM messages WHERE raw_length IS NOT NULL AND id % ? = 0"
                          " LIMIT ?", (step, packing.TRAIN_SAMPLES))
    samples = [packing.unpack(row["packed"], row["raw_length"])[0] for row in rows]  # no dictionary: none needed
    dictionary = packing.train(samples)
    if dictionary is None:
        return 0
    await dictionaries.add(db, dictionary, len(samples))
    done, last = 0, 0
    while rows := await many(db, "SELECT id, packed, raw_length FROM messages WHERE id > ? AND packed IS NOT NULL"
                                 " ORDER BY id LIMIT ?", (last, BATCH)):
        again = [(packing.pack(*packing.unpack(row["packed"], row["raw_length"] or 0), dictionary), row["id"])
                 for row in rows]
        await db.executemany("UPDATE messages SET packed = ? WHERE id = ?", again)
        done, last = done + len(rows), rows[-1]["id"]
    return done


async def _trained(db: aiosqlite.Connection, total: int) -> packing.Dictionary | None:
    """A dictionary trained on up to TRAIN_SAMPLES raw messages spread evenly over the archive, kept in the database."""
    step = max(1, total // packing.TRAIN_SAMPLES)
    rows = await db.execute_fetchall(
        "SELECT raw FROM messages WHERE raw IS NOT NULL AND id % ? = 0 LIMIT ?", (step, packing.TRAIN_SAMPLES)
    )
    samples = [row[0] for row in rows]
    dictionary = packing.train(samples)
    if dictionary is not None:
        await dictionaries.add(db, dictionary, len(samples))
    return dictionary


def _packed(row: dict, dictionary: packing.Dictionary | None) -> tuple[bytes | None, int | None, int]:
    """(packed, raw_length, id) of one old row; a purged post (no raw, no text) stays empty."""
    raw, text = row["raw"], row["search_text"] or ""
    if raw is None and not text:
        return None, None, row["id"]
    return packing.pack(raw or b"", text, dictionary), None if raw is None else len(raw), row["id"]
