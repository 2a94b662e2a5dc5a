"""The single writer: every write runs here, and concurrent writes share one commit.

Callers submit `job(db)` coroutines. The writer takes every job that is waiting,
opens one BEGIN IMMEDIATE transaction, runs each job inside its own SAVEPOINT
(so one failing job is rolled back alone and its caller gets the exception),
and commits once: twenty SMTP sessions arriving together cost one fsync, not
twenty. A caller's await returns only after the commit is on disk.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from typing import Any, Awaitable, Callable, TypeVar

import aiosqlite

from listserv.errors import StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")
Job = Callable[[aiosqlite.Connection], Awaitable[Any]]
Entry = tuple[Job, asyncio.Future, bool]  # the job, its caller's future, whether it needs a savepoint
MAX_BATCH = 256


class Writer:
    """Owns the write connection; run() is the only way to change the database."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self._queue: asyncio.Queue[Entry] = asyncio.Queue()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="store-writer")

    async def stop(self) -> None:
        """Finish the jobs already submitted, then stop."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None

    async def run(self, job: Callable[[aiosqlite.Connection], Awaitable[T]], single_statement: bool = False) -> T:
        """Run job(db) in a transaction; returns its result once committed.

        single_statement: the job runs exactly one statement, which SQLite
        undoes by itself when it fails, so the savepoint (two round trips to
        the database thread) is skipped. Intake's insert is such a job.
        """
        self.start()
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        await self._queue.put((job, future, not single_statement))
        return await future

    async def _loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < MAX_BATCH:
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _commit(self, batch: list[Entry]) -> None:
        outcomes: list[tuple[asyncio.Future, Any, BaseException | None]] = []
        try:
            await self.db.execute("BEGIN IMMEDIATE")
            for job, future, savepoint in batch:
                outcomes.append((future, *await (self._one(job) if savepoint else self._bare(job))))
            await self.db.execute("COMMIT")
        except (sqlite3.Error, ValueError) as exc:
            await self._rollback()
            log.error("store commit failed: %s", exc)
            failure = StoreError(f"database write failed: {exc}")
            for _, future, _ in batch:
                if not future.done():
                    future.set_exception(failure)
            return
        for future, result, error in outcomes:
            if future.done():
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    async def _one(self, job: Job) -> tuple[Any, BaseException | None]:
        """Run one job in a savepoint so that its failure undoes only its own writes."""
        await self.db.execute("SAVEPOINT job")
        try:
            result = await job(self.db)
        except Exception as exc:  # handed to the caller, who owns the decision
            await self.db.execute("ROLLBACK TO job")
            await self.db.execute("RELEASE job")
            return None, exc
        await self.db.execute("RELEASE job")
        return result, None

    async def _bare(self, job: Job) -> tuple[Any, BaseException | None]:
        """Run a single-statement job: a failed statement has already undone itself."""
        try:
            return await job(self.db), None
        except sqlite3.OperationalError:
            raise  # busy or I/O: the whole transaction is suspect
        except Exception as exc:  # handed to the caller, who owns the decision
            return None, exc

    async def _rollback(self) -> None:
        try:
            if self.db.in_transaction:
                await self.db.execute("ROLLBACK")
        except (sqlite3.Error, ValueError) as exc:  # ValueError: the connection is already closed
            log.error("rollback failed: %s", exc)
