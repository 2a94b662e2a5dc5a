"""Open SQLite connections with the pragmas that make an acknowledged message durable.

WAL lets readers work while the single writer commits; synchronous=FULL makes
each commit survive power loss, which is what a 250 promises. The pipeline
process opens its store with power_safe=False (synchronous=NORMAL): its
commits survive any crash of any process (the log is written before the
commit returns; only the fsync is left out), and a power loss can undo only
the last few of them, which are then redone from their inbound rows, written
power-safe before the 250. Any later power-safe commit (the daemon's next
intake or delivery record) flushes them too. One fsync (~2 ms on the
development machine) was half of the pipeline's time per post. A new database
is owner-only (listserv.private_files): the file is created 0600 before SQLite
first opens it, so that the -wal and -shm files SQLite makes next to it, which
take the file's mode, are 0600 too. Its directory (0700) comes from
`listserv init` or the owner; it is never created here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable

import aiosqlite

from listserv import private_files
from listserv.errors import StoreUnavailable
from listserv.store import dictionaries, packing

BUSY_TIMEOUT_MS = 10000  # how long a statement waits for another connection's lock before failing

SYNCHRONOUS = {True: "PRAGMA synchronous=FULL", False: "PRAGMA synchronous=NORMAL"}  # by power_safe
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    # 32 MB of page cache: full-text search at 100,000 posts reads many index
    # pages; measured p50 2.8 -> 2.4 ms, p95 5.3 -> 4.2 ms (bench/search.py).
    "PRAGMA cache_size=-32768",
    # Deleted or overwritten content is zeroed in the file, not left in free
    # pages: a purged confidential post must not be readable from the file.
    "PRAGMA secure_delete=ON",
)


async def connect(path: str | Path, power_safe: bool = True) -> aiosqlite.Connection:
    """A connection in autocommit mode: transactions are begun explicitly by the writer.

    power_safe: each commit is flushed to disk before it returns (see above).

    The database file is created when missing, its directory never: a missing
    directory means a wrong path or a working directory other than the
    owner's, and a new empty database there would make the lists seem gone.
    """
    where = Path(path)
    if not where.parent.is_dir():
        state = "is not a directory" if where.parent.exists() else "does not exist"
        raise StoreUnavailable(
            f"the database directory {where.parent.absolute()} {state}: create it (mkdir -m 700),"
            " or fix [storage] database in the configuration"
        )
    try:
        private_files.create_file(where)
        # Opened once here first: when aiosqlite's own open fails, its thread reports the failure to an event
        # loop that a failing command has already closed (an exception in a stray thread).
        sqlite3.connect(where).close()
        db = await aiosqlite.connect(str(where), isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise StoreUnavailable(f"cannot open database {where}: {exc}") from None
    db.row_factory = aiosqlite.Row
    try:
        for pragma in (*PRAGMAS, SYNCHRONOUS[power_safe]):
            await db.execute(pragma)
        await db.create_function("archive_search_text", 2, _search_text_function(where), deterministic=True)
    except sqlite3.Error as exc:
        await db.close()
        raise StoreUnavailable(f"cannot use database {where}: {exc}") from None
    return db


def _search_text_function(path: Path) -> Callable[[bytes | None, int | None], str]:
    """The SQL function archive_search_text(packed, raw_length): a post's search text for the index
    (0018_packed_archive.sql: the view messages_text, the index's triggers) and the openings of search results."""

    def archive_search_text(packed: bytes | None, raw_length: int | None) -> str:
        if packed is not None:
            dictionaries.load_from_file(path, packing.dictionary_of(packed))
        return packing.search_text(packed, raw_length)

    return archive_search_text
