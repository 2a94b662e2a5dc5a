"""The pipeline in a process of its own, so that no message can keep the SMTP listener from answering.

Parsing, the rules, decoration and text extraction are CPU work: on the
listener's event loop, one 100,000-part post kept new clients waiting 53 s for
their greeting. Here the daemon starts `python -m listserv.pipeline_worker`
as a child. The two share only the SQLite database (WAL; each process has its
own single writer, BEGIN IMMEDIATE and busy_timeout settle the contention) and
a pair of pipes:

- parent -> child (the child's stdin): the settings as TOML and a line
  "overdue ID..." naming the messages to hold unparsed, once; then a line "w"
  per enqueued message as a wake-up. End of file — the daemon stopped or died, even by
  kill -9 — makes the child finish its message and exit.
- child -> parent (the child's stdout): "ready" once the store is open,
  "start ID" and "done ID" around each message, and "deliver" whenever a
  decision queued mail, so delivery starts at once.

The child processes inbound rows in arrival order, exactly as the daemon once
did on its own loop; a row is redone until its effects are committed, so a
child that dies mid-message loses nothing, and the parent starts a new one.
A message that keeps the child busy longer than [server]
max_processing_seconds (the caps cannot foresee every costly input: a header
the stdlib parses in quadratic time, a huge HTML part) gets the child killed;
the next child holds it unparsed, with the reason 'limits', and goes on.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import tomllib
from typing import Callable

from listserv import config, logscrub, pipeline
from listserv.auth.verify import Authenticator
from listserv.config import Settings
from listserv.errors import StoreError
from listserv.store import Store, inbound

log = logging.getLogger(__name__)
BATCH = 50  # inbound rows looked up at once; their bodies are read one by one
RESTART_AFTER = 1.0  # seconds before a child that died is replaced
READY_WAIT = 30.0  # seconds the daemon's start waits for the child to open the store
STOP_WAIT = 10.0  # seconds the daemon waits on stop for the child to finish its message (else redone on start)
READY, DELIVER, START, DONE, OVERDUE, WAKE = b"ready\n", b"deliver\n", b"start ", b"done ", b"overdue ", b"w\n"
# Outcomes after which delivery has work: held (the moderators' notice); recorded (a bounce may have
# stopped a member's delivery and told them); processed (the reply and notices of email commands).
WOKEN = ("accepted", "forwarded", "rejected", "held", "recorded", "processed")


class PipelineProcess:
    """The daemon's side: starts the child, wakes it, relays its wake-ups to delivery, replaces it if it dies."""

    def __init__(self, settings: Settings, on_deliver: Callable[[], None]) -> None:
        self.settings = settings
        self.on_deliver = on_deliver
        self.proc: asyncio.subprocess.Process | None = None
        self._stopping = False
        self._ready = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.overdue: set[int] = set()  # inbound ids whose processing was stopped: the next child holds them
        self._watch: asyncio.TimerHandle | None = None  # fires when the message in hand takes too long

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    async def start(self) -> None:
        """Start the child and wait until it has opened the store (or died trying: it is then restarted)."""
        self._task = asyncio.create_task(self._supervise(), name="pipeline-process")
        ready = asyncio.create_task(self._ready.wait())
        await asyncio.wait((ready, self._task), timeout=READY_WAIT, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()

    def wake(self) -> None:
        """A message was enqueued: tell the child (a dead child's replacement looks at the queue first anyway)."""
        if self.proc is not None and self.proc.returncode is None and not self.proc.stdin.is_closing():
            self.proc.stdin.write(WAKE)

    async def stop(self) -> None:
        """Close the child's stdin, let it finish the message in hand, and wait for it (killed after STOP_WAIT)."""
        self._stopping = True
        if self.proc is not None and self.proc.returncode is None:
            self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), STOP_WAIT)
            except asyncio.TimeoutError:
                log.error("pipeline process %d did not stop in %.0fs; killing it", self.proc.pid, STOP_WAIT)
                self.proc.kill()
                await self.proc.wait()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _supervise(self) -> None:
        while not self._stopping:
            await self._run_once()
            if not self._stopping:
                log.error("pipeline process exited with %s; starting a new one", self.proc.returncode)
                await asyncio.sleep(RESTART_AFTER)

    async def _run_once(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "listserv.pipeline_worker", str(logging.getLogger("listserv").getEffectiveLevel()),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        text = config.to_toml(self.settings).encode()
        self.proc.stdin.write(b"%d\n%s" % (len(text), text))
        self.proc.stdin.write(OVERDUE + b" ".join(b"%d" % inbound_id for inbound_id in sorted(self.overdue)) + b"\n")
        while line := await self.proc.stdout.readline():
            self._heard(line)
        self._unwatch()
        await self.proc.wait()

    def _heard(self, line: bytes) -> None:
        if line == READY:
            self._ready.set()
        elif line == DELIVER:
            self.on_deliver()
        elif line.startswith(START):
            self._unwatch()
            if self.settings.server.max_processing_seconds:
                self._watch = asyncio.get_running_loop().call_later(
                    self.settings.server.max_processing_seconds, self._stop_overdue, int(line[len(START) :])
                )
        elif line.startswith(DONE):
            self._unwatch()
            self.overdue.discard(int(line[len(DONE) :]))

    def _unwatch(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None

    def _stop_overdue(self, inbound_id: int) -> None:
        """The message in hand took too long: kill the child; its successor holds the message unparsed."""
        self._watch = None
        log.error(
            "inbound %d: processing took more than %ds; stopping the pipeline process, the message will be held",
            inbound_id, self.settings.server.max_processing_seconds,
        )
        self.overdue.add(inbound_id)
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()


class PipelineLoop:
    """The child's side: process inbound rows whenever woken (or every second), until told to stop."""

    def __init__(self, store: Store, settings: Settings, tell: Callable[[bytes], None], overdue: set[int]) -> None:
        self.store, self.settings, self.tell = store, settings, tell
        self.overdue = overdue  # inbound ids the daemon stopped once: hold them unparsed
        self.authenticator = Authenticator.from_settings(settings)  # one DNS cache for every message
        self.work = asyncio.Event()
        self.stopping = False

    def stop(self) -> None:
        self.stopping = True
        self.work.set()

    async def run(self) -> None:
        """Process inbound rows in arrival order; a store failure backs off and retries the row."""
        while not self.stopping:
            self.work.clear()
            try:
                done = await self.process_pending()
            except StoreError as exc:
                log.error("pipeline paused, store failed: %s", exc)
                await asyncio.sleep(1.0)
                continue
            if not done and not self.stopping:
                try:
                    await asyncio.wait_for(self.work.wait(), timeout=1.0)
                except asyncio.TimeoutError:
                    pass

    async def process_pending(self) -> int:
        ids = await inbound.pending_ids(self.store.db, limit=BATCH)
        for inbound_id in ids:
            if self.stopping:
                break
            row = await inbound.get(self.store.db, inbound_id)
            if row is None or row["processed_at"] is not None:
                continue
            self.tell(START + b"%d\n" % inbound_id)
            outcome = await pipeline.process(
                self.store, self.settings, row, self._overdue(inbound_id), self.authenticator
            )
            self.tell(DONE + b"%d\n" % inbound_id)
            if any(result in WOKEN for result in outcome.values()):
                self.tell(DELIVER)
        return len(ids)

    def _overdue(self, inbound_id: int) -> str:
        if inbound_id not in self.overdue:
            return ""
        return f"limits: processing took more than {self.settings.server.max_processing_seconds} s and was stopped"


async def _read_start(reader: asyncio.StreamReader) -> tuple[Settings, set[int]]:
    """What the daemon sends first: the settings, then the overdue inbound ids."""
    size = int(await reader.readline())
    settings = config.from_dict(tomllib.loads((await reader.readexactly(size)).decode()), source="the daemon")
    overdue = (await reader.readline())[len(OVERDUE) :].split()
    return settings, {int(inbound_id) for inbound_id in overdue}


async def _listen(reader: asyncio.StreamReader, pipeline_loop: PipelineLoop) -> None:
    """Wake the loop on every line from the daemon; stop it at end of file."""
    while await reader.readline():
        pipeline_loop.work.set()
    pipeline_loop.stop()


def _tell(line: bytes) -> None:
    os.write(sys.stdout.fileno(), line)


async def child_main() -> None:
    """The child process: read the settings, open the store, run the loop until stdin ends."""
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    settings, overdue = await _read_start(reader)
    # Not power-safe: a power loss may undo the last commits, which are redone from their inbound rows
    # (committed power-safe by intake before the 250); a crash of any process undoes none.
    store = await Store.open(settings.storage.database, power_safe=False)
    try:
        pipeline_loop = PipelineLoop(store, settings, _tell, overdue)
        listener = asyncio.create_task(_listen(reader, pipeline_loop))
        _tell(READY)
        await pipeline_loop.run()
        listener.cancel()
    finally:
        await store.close()


def main() -> None:
    # Ctrl-C in a terminal and systemd's stop signal reach the whole process group: the daemon stops this
    # process itself (end of file on stdin, after the message in hand), so the signals are not ours to act on.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(
        level=int(sys.argv[1]) if len(sys.argv) > 1 else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s[pipeline]: %(message)s",
    )
    logscrub.install()
    asyncio.run(child_main())


if __name__ == "__main__":
    main()
