"""`archive import`: stream an mbox into a list's archive, parsing on every core and threading in file order.

The shape of an import (DESIGN.md: 100,000 messages imported and searchable
in <= 60 s on 2 cores, memory flat):
- this process reads the file in blocks and cuts it into messages
  (listserv.archive.mbox), BATCH messages at a time;
- worker processes turn each batch into archive rows (listserv.archive.extract,
  compat32: the cheap parse); at most WINDOW batches are in flight, so memory
  holds a few batches whatever the size of the file; the workers end when this
  process ends, even by kill -9 (listserv.archive.parse_workers);
- this process writes each batch, in file order, in ONE transaction through
  the store's writer: duplicates by Message-ID are dropped (against the archive,
  so a re-run after an interruption imports only what is missing), the batch is
  threaded (listserv.archive.threading, the same code as the pipeline), rows,
  threads and map commit together, and the FTS index follows by trigger.
A batch holds the write lock for a fraction of a second, so a running daemon's
intake only waits, it never fails. Small files are parsed in this process:
starting workers would cost more than it saves.

Nothing about one message stops an import: an empty entry, one without
headers, one that cannot be parsed or one over mbox.MAX_ENTRY is skipped and
reported with its number and byte offset; messages with MIME defects are
imported and counted. No report line carries a subject or any message text.

Confidential posts: a post is stored confidential when it carries a marker
(the list's confidential tag in its subject, default [CONFIDENTIAL]; a
Sensitivity: Private or Company-Confidential header; or the list makes every
post confidential) or when it is in a confidential thread; when a thread turns
confidential during the import, its posts imported before are marked too
(threading.archive_posts with thread_confidential), and so is every other
stored copy of the thread (confidential.thread.remark: held posts, queued
copies and notices, as when the pipeline re-marks), and a post whose
Message-ID or references the pipeline already knows as confidential
(listserv.store.confidential, any list) is stored confidential too. Old
archives are imported whole, so this errs on the side of hiding. The list's
confidential policy applies at once: under confidential_archive none a
confidential post keeps no text (stripped in its batch's transaction), and
posts older than confidential_retention_days are purged when the import ends.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

import aiosqlite

from listserv import lists
from listserv.archive import mbox, parse_workers, retention
from listserv.archive.extract import Context, Packing, parse_chunk
from listserv.archive.threading import archive_posts
from listserv.confidential import thread as confidential_thread
from listserv.config import Settings
from listserv.errors import BadMbox
from listserv.wording import plural
from listserv.pipeline import confidential as pipeline_confidential
from listserv.store import Store, dictionaries, messages, packing, search_index

BATCH = 500  # messages per parse task and per write transaction
WINDOW = 4  # parse tasks in flight: bounds memory, keeps every worker busy while a batch is written
SMALL = 4 << 20  # bytes: a smaller file is parsed in this process
OPTIMIZE_AFTER = 10_000  # imported messages after which the FTS index is merged into one segment
Progress = Callable[[int, int], None]  # (bytes read, messages done)


@dataclass
class ImportReport:
    """What an import did, for the summary line and the list of skipped messages."""

    imported: int = 0  # messages added to the archive
    duplicates: int = 0  # Message-IDs already archived (or earlier in the file): skipped
    defective: int = 0  # imported, but the MIME parser found defects
    malformed: list[tuple[int, int, str]] = field(default_factory=list)  # (number, byte offset, reason): skipped
    seconds: float = 0.0

    def summary(self) -> str:
        """One line: how many imported, at what rate, and what was skipped."""
        rate = self.imported / self.seconds if self.seconds > 0 else 0.0
        return (
            f"imported {plural(self.imported, 'message')} in {self.seconds:.1f} s ({rate:.0f}/s); "
            f"skipped {plural(self.duplicates, 'duplicate')} and {len(self.malformed)} malformed; "
            f"{self.defective} imported with MIME defects"
        )

    def malformed_lines(self) -> list[str]:
        """One line per skipped message: its position, so it can be found in the file, and why."""
        return [f"skipped message {number} at byte {offset}: {reason}" for number, offset, reason in self.malformed]


async def import_mbox(
    store: Store, list_address: str, path: str | os.PathLike, workers: int | None = None,
    progress: Progress | None = None, *, settings: Settings,
) -> ImportReport:
    """Import an mbox file into a list's archive; NoSuchList, BadMbox (unreadable, not an mbox) before anything.

    settings: how the confidential copies that replace queued copies of
    re-marked posts are queued and signed ([delivery], the DKIM keys).
    """
    mlist = await lists.get(store, list_address)
    context = Context(
        subject_prefix=mlist.subject_prefix, domain=mlist.domain, now=time.time(),
        confidential_tag=mlist.settings.confidential_tag, all_confidential=mlist.settings.all_confidential,
    )
    workers = workers if workers is not None else (os.cpu_count() or 1)
    started = time.monotonic()
    with _opened(path) as stream:
        mbox.check(stream, str(path))
        size = os.fstat(stream.fileno()).st_size
        run = _Run(store, mlist.id, context, progress, strip=mlist.settings.confidential_archive == "none",
                   settings=settings)
        if workers > 1 and size >= SMALL:
            await run.with_pool(stream, workers)
        else:
            await run.here(stream)
    # Confidential posts past the list's retention (or all, under confidential_archive none) lose their
    # text now; the index is merged so that stripped words leave its pages too.
    await retention.purge(store, mlist.address)
    if run.report.imported >= OPTIMIZE_AFTER or (run.strip and run.report.imported):
        await store.write(search_index.optimize)
    run.report.seconds = time.monotonic() - started
    return run.report


def check_file(path: str | os.PathLike) -> None:
    """BadMbox unless path can be read and starts like an mbox: the CLI asks before it shows a progress bar."""
    with _opened(path) as stream:
        mbox.check(stream, str(path))


def _opened(path: str | os.PathLike) -> BinaryIO:
    try:
        return open(Path(path), "rb")
    except OSError as exc:
        raise BadMbox(f"cannot read {path}: {exc.strerror}") from None


class _Run:
    """One import: parse batches (here or in workers), write them in order, keep the report."""

    def __init__(self, store: Store, list_id: int, context: Context, progress: Progress | None,
                 settings: Settings, strip: bool = False) -> None:
        self.store, self.list_id, self.context = store, list_id, context
        self.strip = strip  # confidential_archive none: confidential posts keep no text, even within the import
        self.settings = settings  # how confidential copies of re-marked posts are queued and signed
        self.progress = progress or (lambda done, count: None)
        self.trained = False  # the archive has a packing dictionary, or the first batch was offered to train one
        self.packing: Packing | None = None  # once trained: how the parsing packs rows (before: the writer packs)
        self.report = ImportReport()

    async def here(self, stream: BinaryIO) -> None:
        """Parse in this process (small files, or one worker)."""
        for batch in _batches(_read(stream)):
            await self._write(batch, parse_chunk(_payload(batch), self.context, self.packing))

    async def with_pool(self, stream: BinaryIO, workers: int) -> None:
        """Parse in worker processes, which end with this process however it ends (listserv.archive.parse_workers)."""
        loop = asyncio.get_running_loop()
        with parse_workers.pool(workers) as pool:
            pending: deque = deque()
            for batch in _batches(_read(stream)):
                task = loop.run_in_executor(pool, parse_chunk, _payload(batch), self.context, self.packing)
                pending.append((batch, task))
                if len(pending) >= WINDOW:
                    batch, parsed = pending.popleft()
                    await self._write(batch, await parsed)
            while pending:
                batch, parsed = pending.popleft()
                await self._write(batch, await parsed)

    async def _write(self, batch: list[mbox.Entry], parsed: list[tuple[dict | None, str, bool]]) -> None:
        """Report the malformed, drop repeats within the batch, store the rest in one transaction."""
        rows: dict[str, dict] = {}
        results = iter(parsed)
        for entry in batch:
            if entry.data is None:
                self.report.malformed.append((entry.number, entry.offset, f"larger than {mbox.MAX_ENTRY >> 20} MB"))
                continue
            row, reason, defective = next(results)
            if row is None:
                self.report.malformed.append((entry.number, entry.offset, reason))
            elif row["message_id"] in rows:
                self.report.duplicates += 1
            else:
                rows[row["message_id"]] = {**row, "raw": entry.data}
                self.report.defective += defective
        if not self.trained and rows:
            self.trained = True
            await self._train([row["raw"] for row in rows.values()])
        stored = await self.store.write(
            _store_batch, self.settings, self.list_id, list(rows.values()), self.strip) if rows else 0
        self.report.imported += stored
        self.report.duplicates += len(rows) - stored
        self.progress(batch[-1].offset, batch[-1].number)

    async def _train(self, samples: list[bytes]) -> None:
        """An archive without a packing dictionary gets one trained on the first batch, before it is packed
        (listserv.store.packing: posts packed without one take a third more space). From then on the workers
        pack each row with the archive's dictionary, in parallel; the batches sent before are packed when
        written."""
        dictionary = await dictionaries.current(self.store.db)
        if dictionary is None and (dictionary := packing.train(samples)) is not None:
            await self.store.write(dictionaries.add, dictionary, len(samples))
        self.packing = Packing(dictionary)


async def _store_batch(
    db: aiosqlite.Connection, settings: Settings, list_id: int, rows: list[dict], strip: bool = False,
) -> int:
    """Inside the writer's transaction: archive the rows whose Message-ID is new to the list; returns how many.

    Rows in a thread known to be confidential (listserv.store.confidential) are stored confidential; the
    threads they are in (merges OR the flag) are re-marked like the pipeline's (every stored copy: archived
    and held posts, queued copies and notices); with strip (confidential_archive none) every confidential
    post's text is purged in the same transaction.
    """
    known = await messages.existing(db, list_id, [row["message_id"] for row in rows])
    fresh = [row for row in rows if row["message_id"] not in known]
    if fresh:
        await confidential_thread.mark_known(db, fresh)
        await archive_posts(db, list_id, fresh, thread_confidential=True)
        marked = [row for row in fresh if row["confidential"]]
        ids = [i for row in marked for i in (row["message_id"], row.get("in_reply_to") or "",
                                              *(row.get("refs") or "").split())]
        await pipeline_confidential.settle(db, settings, await confidential_thread.remark(db, list_id, ids))
    if fresh and strip:
        await retention.strip(db, list_id, time.time())
    return len(fresh)


def _read(stream: BinaryIO) -> Iterator[mbox.Entry]:
    try:
        yield from mbox.entries(stream)
    except OSError as exc:  # a disk or network file failing half-way: what was written stays
        raise BadMbox(f"reading the mbox failed: {exc.strerror}") from None


def _batches(entries: Iterable[mbox.Entry]) -> Iterator[list[mbox.Entry]]:
    batch: list[mbox.Entry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _payload(batch: list[mbox.Entry]) -> list[tuple[bytes, float | None]]:
    """What a worker needs of a batch: each message's bytes and its From_ line date (entries too large: none)."""
    return [(entry.data, entry.envelope_date()) for entry in batch if entry.data is not None]
