"""Bring a database up to the newest schema by applying the numbered SQL files in order.

PRAGMA user_version holds the number of the last file applied, so every
command can open a fresh or old database and find the schema it expects.

A file may have a step SQL cannot do (recompressing every post): a line
`-- python: NAME` runs STEPS[NAME] there, in the same transaction as the
SQL before and after it, so the migration is still all or nothing.
"""

from __future__ import annotations

import re
import sqlite3
from importlib import resources
from typing import Awaitable, Callable

import aiosqlite

from listserv.errors import StoreUnavailable
from listserv.store import repack

STEPS: dict[str, Callable[[aiosqlite.Connection], Awaitable[object]]] = {
    "pack_archive": repack.pack_archive,  # 0018_packed_archive.sql
}
_STEP = re.compile(r"^-- python: (\w+)$", re.MULTILINE)


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
            await _apply(db, number, sql)
        except sqlite3.Error as exc:
            await _rollback(db)
            raise StoreUnavailable(f"migration {name} failed: {exc}") from None
        except BaseException:  # a Python step's own fault (or a cancel): nothing of the migration is kept
            await _rollback(db)
            raise
        version = number
    return version


async def _rollback(db: aiosqlite.Connection) -> None:
    if db.in_transaction:
        await db.execute("ROLLBACK")


async def _apply(db: aiosqlite.Connection, number: int, sql: str) -> None:
    """One file in one transaction: its SQL, and its Python steps where the file names them."""
    parts = _STEP.split(sql)  # SQL, step name, SQL, step name, ..., SQL
    if len(parts) == 1:
        await db.executescript(f"BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version={number};\nCOMMIT;")
        return
    await db.executescript(f"BEGIN IMMEDIATE;\n{parts[0]}")  # leaves the transaction open
    for step, after in zip(parts[1::2], parts[2::2]):
        await STEPS[step](db)
        for statement in statements(after):  # executescript would commit first
            await db.execute(statement)
    await db.execute(f"PRAGMA user_version={number}")
    await db.execute("COMMIT")


def statements(script: str) -> list[str]:
    """The statements of an SQL script, comments and all, each complete (a trigger's body stays whole).

    >>> statements("CREATE TABLE t (x); -- a note\\nCREATE TRIGGER g AFTER INSERT ON t BEGIN SELECT 1; END;\\n")
    ['CREATE TABLE t (x);', '-- a note\\nCREATE TRIGGER g AFTER INSERT ON t BEGIN SELECT 1; END;']
    """
    found, pending = [], ""
    for piece in script.split(";")[:-1]:  # after the last ';' only blanks and comments are left
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            found.append(pending.strip())
            pending = ""
    return found
