"""Make deleted content leave every file of the database: empty the write-ahead log, compact the file.

Deleting a row (or overwriting a column) with secure_delete on zeroes it in
the pages of the database file, but in WAL mode every changed page is first
appended to `-wal`, and the old copies of a page stay there until a
checkpoint copies the log back and the log is reset. A running daemon keeps
its connections open, so the log is never removed by a clean close: without
a TRUNCATE checkpoint a purged post stays readable in `-wal` for as long as
the server runs. (`-shm` holds only page numbers, never content.)

A TRUNCATE checkpoint completes only when no connection still reads an older
snapshot; our readers run one autocommit statement at a time, so they let go
within milliseconds. The result row (busy, log, checkpointed) says whether it
completed: (0, 0, 0) means the log is empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from listserv.store.connection import BUSY_TIMEOUT_MS

SUFFIXES = ("", "-wal", "-shm")  # the files of one SQLite database in WAL mode


@dataclass(frozen=True)
class Checkpoint:
    """The row of PRAGMA wal_checkpoint: busy 1 when a reader or writer kept it from completing."""

    busy: int
    log: int
    checkpointed: int

    @property
    def complete(self) -> bool:
        """True when every frame went back into the database file and the log was truncated to nothing."""
        return self.busy == 0 and self.log == 0 and self.checkpointed == 0


async def truncate_wal(db: aiosqlite.Connection, wait_ms: int) -> Checkpoint:
    """Checkpoint and truncate the log, waiting up to wait_ms for readers of older snapshots to finish.

    Run outside any transaction. The connection's usual busy timeout is put back afterwards.
    """
    # Each PRAGMA answers with a row: fetched, so that no statement stays open (VACUUM refuses to run then).
    await db.execute_fetchall(f"PRAGMA busy_timeout={max(0, int(wait_ms))}")
    try:
        rows = await db.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await db.execute_fetchall(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    busy, log, checkpointed = rows[0]
    return Checkpoint(busy, log, checkpointed)


async def vacuum(db: aiosqlite.Connection) -> None:
    """Rebuild the database file without its free pages (run outside any transaction; the
    new pages go through the log, so truncate_wal must follow for the file to shrink)."""
    await db.execute("VACUUM")


def files(path: str | Path) -> list[Path]:
    """The database's files that exist now: the file itself, its log and its shared-memory index."""
    base = Path(path)
    return [found for suffix in SUFFIXES if (found := base.with_name(base.name + suffix)).exists()]


def size(path: str | Path) -> int:
    """Bytes the database takes on disk now: the file and its write-ahead log (the -shm index is fixed-size)."""
    return sum(found.stat().st_size for found in files(path) if not found.name.endswith("-shm"))
