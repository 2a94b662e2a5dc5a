"""The zstd dictionaries archived posts are packed with (listserv.store.packing).

Source of truth: every row is needed to unpack the posts packed with it, so a
dictionary is never changed or deleted while the database exists; the newest
one packs new posts. Each is trained on the archive's own posts: by the
migration that packed an existing archive, or by the first `archive import`
into an archive without one.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import aiosqlite

from listserv.store import packing
from listserv.store.rows import scalar


async def current(db: aiosqlite.Connection) -> packing.Dictionary | None:
    """The dictionary new posts are packed with (the newest), loaded into the process; None when none exists."""
    newest = await scalar(db, "SELECT id FROM archive_dictionaries ORDER BY created_at DESC, id DESC LIMIT 1")
    if newest is None:
        return None
    await load(db, newest)
    return packing.get(newest)


async def load(db: aiosqlite.Connection, dictionary_id: int) -> None:
    """Make a dictionary of this database known to the process, from this connection (it may be uncommitted)."""
    if not packing.known(dictionary_id):
        data = await scalar(db, "SELECT data FROM archive_dictionaries WHERE id = ?", (dictionary_id,))
        if data is None:
            raise LookupError(f"archive dictionary {dictionary_id} is missing from the database")
        packing.remember(dictionary_id, data)


async def add(db: aiosqlite.Connection, dictionary: packing.Dictionary, samples: int) -> None:
    """Keep a newly trained dictionary; from now on it packs new posts."""
    await db.execute(
        "INSERT INTO archive_dictionaries (id, created_at, samples, data) VALUES (?, ?, ?, ?)",
        (dictionary.id, time.time(), samples, dictionary.data),
    )


def load_from_file(path: Path, dictionary_id: int) -> None:
    """The same as load, for the SQL function archive_search_text, which runs inside a statement: read with a
    connection of its own (a dictionary is committed before any other connection meets a post packed with it)."""
    if packing.known(dictionary_id):
        return
    reader = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)  # as_uri: '?', '#', '%' escaped
    try:
        row = reader.execute("SELECT data FROM archive_dictionaries WHERE id = ?", (dictionary_id,)).fetchone()
    finally:
        reader.close()
    if row is None:
        raise LookupError(f"archive dictionary {dictionary_id} is missing from the database")
    packing.remember(dictionary_id, row[0])
