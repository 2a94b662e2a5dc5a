"""The single writer: every write runs here, and concurrent writes share one commit.

Callers submit `job(db)` coroutines. The writer takes every job that is waiting,
opens one BEGIN IMMEDIATE transaction, runs each job inside its own SAVEPOINT
(so one failing job is rolled back alone and its caller gets the exception),
and commits once: twenty SMTP sessions arriving together cost one fsync, not
twenty. A caller's await returns only after the commit is on disk.

Some work must run outside any transaction (a checkpoint, VACUUM): outside()
queues it behind every write submitted before it. And since most commits
destroy content (a processed message's raw bytes, a delivered copy), the
writer empties the write-ahead log by itself: at most FORGET_AFTER seconds
after a commit, it checkpoints with TRUNCATE, so what a commit deleted does not
linger in `-wal` while the daemon runs (listserv.store.forget).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from typing import Any, Awaitable, Callable, TypeVar

import aiosqlite

from listserv.errors import StoreError
from listserv.store import forget

log = logging.getLogger(__name__)
T = TypeVar("T")
Job = Callable[[aiosqlite.Connection], Awaitable[Any]]
SAVEPOINT, BARE, OUTSIDE = "savepoint", "bare", "outside"  # how a job runs: see run() and outside()
Entry = tuple[Job, asyncio.Future, str]  # the job, its caller's future, how it runs
MAX_BATCH = 256
FORGET_AFTER = 1.0  # seconds after a commit within which the write-ahead log is emptied
FORGET_WAIT_MS = 50  # how long that checkpoint waits for readers: longer would stall intake; it is simply tried again


class Writer:
    """Owns the write connection; run() is the only way to change the database."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self._queue: asyncio.Queue[Entry] = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._unforgotten: float | None = None  # monotonic time of the first commit since the log was last emptied

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="store-writer")

    async def stop(self) -> None:
        """Finish the jobs already submitted, empty the log of their commits (a CLI command stops well
        within FORGET_AFTER, and with the daemon still running its close does not remove the log), stop."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None
        if self._unforgotten is not None:
            await self._forget()

    async def run(self, job: Callable[[aiosqlite.Connection], Awaitable[T]], single_statement: bool = False) -> T:
        """Run job(db) in a transaction; returns its result once committed.

        single_statement: the job runs exactly one statement, which SQLite
        undoes by itself when it fails, so the savepoint (two round trips to
        the database thread) is skipped. Intake's insert is such a job.
        """
        return await self._submit(job, BARE if single_statement else SAVEPOINT)

    async def outside(self, job: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run job(db) outside any transaction, after every write submitted before it has committed."""
        return await self._submit(job, OUTSIDE)

    async def _submit(self, job: Job, how: str) -> Any:
        self.start()
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        await self._queue.put((job, future, how))
        return await future

    async def _loop(self) -> None:
        while True:
            first = await self._next()
            if first is None:  # quiet for FORGET_AFTER since a commit: empty the log now
                await self._forget()
                continue
            batch, alone = self._gather(first)
            try:
                if batch:
                    await self._commit(batch)
                    self._unforgotten = self._unforgotten or time.monotonic()
                if alone is not None:
                    await self._outside(alone)
                if self._unforgotten is not None and time.monotonic() - self._unforgotten >= FORGET_AFTER:
                    await self._forget()  # busy without pause: still empty the log every FORGET_AFTER
            finally:
                for _ in range(len(batch) + (alone is not None)):
                    self._queue.task_done()

    async def _next(self) -> Entry | None:
        """The next job; None when the log holds commits and FORGET_AFTER passed without one."""
        if self._unforgotten is None:
            return await self._queue.get()
        wait = max(0.0, self._unforgotten + FORGET_AFTER - time.monotonic())
        try:
            return await asyncio.wait_for(self._queue.get(), timeout=wait)
        except asyncio.TimeoutError:
            return None

    def _gather(self, first: Entry) -> tuple[list[Entry], Entry | None]:
        """The transactional jobs waiting (up to MAX_BATCH), stopping at a job that must run outside them."""
        if first[2] == OUTSIDE:
            return [], first
        batch = [first]
        while not self._queue.empty() and len(batch) < MAX_BATCH:
            entry = self._queue.get_nowait()
            if entry[2] == OUTSIDE:
                return batch, entry
            batch.append(entry)
        return batch, None

    async def _outside(self, entry: Entry) -> None:
        job, future, _ = entry
        try:
            result = await job(self.db)
        except Exception as exc:  # handed to the caller, who owns the decision
            if not future.done():
                future.set_exception(exc)
            return
        if not future.done():
            future.set_result(result)

    async def _forget(self) -> None:
        """Empty the write-ahead log if no reader holds it; if one does, try again FORGET_AFTER later."""
        try:
            done = (await forget.truncate_wal(self.db, FORGET_WAIT_MS)).complete
        except (sqlite3.Error, ValueError) as exc:  # ValueError: the connection is closing
            log.warning("emptying the write-ahead log failed: %s", exc)
            done = False
        self._unforgotten = None if done else time.monotonic()

    async def _commit(self, batch: list[Entry]) -> None:
        if len(batch) == 1 and batch[0][2] == SAVEPOINT:
            await self._alone(batch[0])
            return
        outcomes: list[tuple[asyncio.Future, Any, BaseException | None]] = []
        try:
            await self.db.execute("BEGIN IMMEDIATE")
            for job, future, how in batch:
                outcomes.append((future, *await (self._one(job) if how == SAVEPOINT else self._bare(job))))
            await self.db.execute("COMMIT")
        except (sqlite3.Error, ValueError) as exc:
            await self._failed(batch, exc)
            return
        for future, result, error in outcomes:
            if future.done():
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    async def _alone(self, entry: Entry) -> None:
        """A job that has the transaction to itself needs no savepoint (two round trips to the database
        thread): when it fails, rolling the whole transaction back undoes exactly its writes.

        A busy moment of the daemon or the pipeline process commits one job at a time, so this is their
        common case: the pipeline's transaction per message, delivery's record of each try.
        """
        job, future, _ = entry
        try:
            await self.db.execute("BEGIN IMMEDIATE")
        except (sqlite3.Error, ValueError) as exc:
            await self._failed([entry], exc)
            return
        try:
            result = await job(self.db)
        except Exception as exc:  # handed to the caller, who owns the decision; none of its writes is kept
            await self._rollback()
            if not future.done():
                future.set_exception(exc)
            return
        try:
            await self.db.execute("COMMIT")
        except (sqlite3.Error, ValueError) as exc:
            await self._failed([entry], exc)
            return
        if not future.done():
            future.set_result(result)

    async def _failed(self, batch: list[Entry], exc: BaseException) -> None:
        """The transaction itself failed (busy, I/O, a closed connection): roll back, every caller gets a StoreError."""
        await self._rollback()
        log.error("store commit failed: %s", exc)
        failure = StoreError(f"database write failed: {exc}")
        for _, future, _ in batch:
            if not future.done():
                future.set_exception(failure)

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
