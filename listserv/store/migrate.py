"""Bring a database up to the newest schema by applying the numbered SQL files in order.

PRAGMA user_version holds the number of the last file applied, so every
command can open a fresh or old database and find the schema it expects.
"""

from __future__ import annotations

import sqlite3
from importlib import resources

import aiosqlite

from listserv.errors import StoreUnavailable


def migrations() -> list[tuple[int, str, str]]:
    """(number, file name, SQL) for every migration file, in order."""
    found = []
    for entry in resources.files("listserv.store").joinpath("migrations").iterdir():
        if entry.name.endswith(".sql"):
            number = int(entry.name.split("_", 1)[0])
            found.append((number, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


async def upgrade(db: aiosqlite.Connection) -> int:
    """Apply every migration newer than the database; returns the resulting version."""
    async with db.execute("PRAGMA user_version") as cur:
        (version,) = await cur.fetchone()
    for number, name, sql in migrations():
        if number <= version:
            continue
        try:
            await db.executescript(f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version={number};\nCOMMIT;")
        except sqlite3.Error as exc:
            if db.in_transaction:
                await db.execute("ROLLBACK")
            raise StoreUnavailable(f"migration {name} failed: {exc}") from None
        version = number
    return version
