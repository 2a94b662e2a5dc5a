"""The store: the only package with SQL. Store bundles a reader connection and the writer.

Readers see committed data (WAL); every change goes through Store.write(), which
the single Writer group-commits. Modules under this package each own a table or
two and expose plain async functions that take a connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path
from typing import Any, Awaitable, Callable, TypeVar

import aiosqlite

from listserv.errors import StoreBusy, StoreError
from listserv.store import forget, migrate
from listserv.store.connection import connect
from listserv.store.writer import FORGET_WAIT_MS, Writer

T = TypeVar("T")
ATTEMPT_WAIT = 0.1  # seconds one checkpoint try in forget_deleted() waits for readers (the writer waits meanwhile)
RETRY_PAUSE = 0.05  # seconds between those tries, for the other writes


class Store:
    """A reader connection for queries and a Writer for every change."""

    def __init__(self, reader: aiosqlite.Connection, writer: Writer, path: Path, checkpoint_wait: float = 10.0) -> None:
        self.db = reader
        self.writer = writer
        self.path = path
        self.checkpoint_wait = checkpoint_wait  # seconds forget_deleted() waits for other connections' readers

    @classmethod
    async def open(cls, path: str | Path, checkpoint_wait: float = 10.0, power_safe: bool = True) -> "Store":
        """Open (creating and migrating when needed) the database at path.

        power_safe=False: commits survive any crash but the last may be undone by a power loss
        (listserv.store.connection); only for work redone from power-safe rows, as the pipeline's is.
        """
        write_db = await connect(path, power_safe)
        try:
            await migrate.upgrade(write_db)
            # A log left by a process that died (kill -9, power loss) may hold deleted content: empty it now.
            await forget.truncate_wal(write_db, FORGET_WAIT_MS)
            reader = await connect(path)
        except BaseException:
            await write_db.close()
            raise
        return cls(reader, Writer(write_db), Path(path), checkpoint_wait)

    async def write(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Run fn(db, *args) in the writer's transaction; returns after the commit."""
        return await self.writer.run(lambda db: fn(db, *args, **kwargs))

    async def write_one(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """write() for a job that runs exactly one statement (no savepoint needed; see Writer.run)."""
        return await self.writer.run(lambda db: fn(db, *args), single_statement=True)

    async def forget_deleted(self) -> None:
        """Make what committed writes deleted leave every file now: empty the write-ahead log (TRUNCATE).

        Waits up to checkpoint_wait seconds for readers of older snapshots
        (another process's included); StoreBusy if one still holds the log then.
        """
        deadline = time.monotonic() + self.checkpoint_wait
        while True:
            # Short tries with pauses between them: the writer is not held (intake goes on) while a reader
            # finishes, and a try that is busy at once (another connection checkpointing) is simply repeated.
            wait_ms = int(min(ATTEMPT_WAIT, max(0.0, deadline - time.monotonic())) * 1000)
            done = await self._outside(lambda db, ms=wait_ms: forget.truncate_wal(db, ms), "emptying the write-ahead log")
            if done.complete or time.monotonic() >= deadline:
                break
            await asyncio.sleep(RETRY_PAUSE)
        if not done.complete:
            raise StoreBusy(
                f"deleted content may still be in {self.path.name}-wal: another connection kept reading"
                f" for {self.checkpoint_wait:g}s (busy={done.busy}, log={done.log}, checkpointed={done.checkpointed});"
                " run `listserv archive compact` once it is done"
            )

    async def compact(self) -> None:
        """Give the space of deleted rows back: VACUUM, then empty the log so that the file shrinks."""
        await self._outside(forget.vacuum, "compacting the database")
        await self.forget_deleted()

    async def _outside(self, job: Callable[[aiosqlite.Connection], Awaitable[T]], what: str) -> T:
        """writer.outside(job), a database fault becoming StoreError (one line on the CLI, exit 1)."""
        try:
            return await self.writer.outside(job)
        except sqlite3.Error as exc:
            raise StoreError(f"{what} failed: {exc}") from None

    def size(self) -> int:
        """Bytes the database takes on disk now (the file and its write-ahead log)."""
        return forget.size(self.path)

    async def close(self) -> None:
        await self.writer.stop()
        await self.writer.db.close()
        await self.db.close()

    async def __aenter__(self) -> "Store":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
