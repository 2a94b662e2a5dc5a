"""Wires intake, the pipeline process and delivery together; signals; redo on start.

Intake, delivery and the periodic jobs (listserv.periodic: digests,
reminders, expiry, bounces) share this process's event loop; the pipeline runs
in a child process (listserv.pipeline_worker), so no message's parsing can
delay a greeting. On start every inbound row without its effects committed is
processed again (the pipeline is idempotent per row) and every outbound batch
is due again, so a kill -9 loses nothing that was acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
import traceback
from dataclasses import replace
from typing import Awaitable, Callable

from listserv import logscrub, logsetup, periodic, private_files, runstate
from listserv.config import Settings
from listserv.delivery import maildir_path
from listserv.delivery.worker import DeliveryWorker
from listserv.errors import CannotListen, CannotStart, ListservError
from listserv.intake import IntakeHandler, protocol_factory
from listserv.outgoing import domains
from listserv.pipeline_worker import PipelineProcess
from listserv.store import Store
from listserv.web.server import WebServer

log = logging.getLogger(__name__)


class Daemon:
    """One running server: call start(), then stop() (or let serve() do both)."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time, tick: float = periodic.TICK) -> None:
        self.settings = settings
        self.clock = clock  # the periodic jobs' clock (digests, reminders, expiry, bounce decay); tests inject one
        self.tick = tick  # seconds between runs of the periodic jobs
        self.store: Store | None = None
        self.delivery: DeliveryWorker | None = None
        self.scheduler: periodic.Scheduler | None = None
        self.pipeline: PipelineProcess | None = None
        self.web: WebServer | None = None  # the members' web pages ([web] enabled)
        self._server: asyncio.base_events.Server | None = None
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        """Open the store, start the workers and listen; on any failure undo it all, then raise.

        A half-started daemon must not outlive its error: an open store keeps
        aiosqlite's threads (and with them the process) alive, so whatever
        started is stopped before the exception leaves.
        """
        logscrub.install()  # before the first query or SMTP line: libraries log content at DEBUG otherwise
        self.store = await Store.open(self.settings.storage.database, self.settings.storage.checkpoint_wait)
        try:
            self._make_outbox()
            self._warn_open_files()
            await self._warn_unsigned()
            self.delivery = DeliveryWorker(self.store, self.settings)
            self.scheduler = periodic.Scheduler(self.store, self.settings, self.clock, self.tick, self.delivery.wake)
            self.pipeline = PipelineProcess(self.settings, on_deliver=self.delivery.wake)
            # Listen before any worker runs: a second server on the same database (its port taken) must not
            # deliver or process anything before it fails.
            self._listen_web()  # first: a taken web port stops the start before SMTP is offered
            await self._listen()
            self._tasks = [
                asyncio.create_task(self.delivery.run(), name="delivery"),
                asyncio.create_task(self.scheduler.run(), name="periodic"),
            ]
            if self.web is not None:
                self._tasks.append(self.web.serve())
            await self.pipeline.start()  # after listening: a daemon that cannot listen starts no child
        except BaseException:
            await self.stop()
            raise
        protocol = "LMTP" if self.settings.server.lmtp else "SMTP"
        log.info("listening on %s:%d (%s)", self.settings.server.host, self.port, protocol)
        if self.web is not None:
            log.info("web pages on %s:%d, public URL %s", self.settings.web.host, self.web.port,
                     self.settings.web.base_url)
        self._write_state(protocol)

    async def _listen(self) -> None:
        handler = IntakeHandler(self.store, self.settings, on_enqueued=self.pipeline.wake)
        hostname = self.settings.server.hostname or socket.getfqdn()
        try:
            self._server = await asyncio.get_running_loop().create_server(
                protocol_factory(handler, self.settings, hostname),
                host=self.settings.server.host,
                port=self.settings.server.port,
            )
        except (OSError, OverflowError) as exc:  # OverflowError: a port past 65535 set in code, not the file
            where = f"{self.settings.server.host}:{self.settings.server.port}"
            raise CannotListen(f"cannot listen on {where}: {getattr(exc, 'strerror', None) or exc}") from None

    def _listen_web(self) -> None:
        """Bind the web pages' port too ([web] enabled), so a taken port stops the start like the SMTP one."""
        if not self.settings.web.enabled:
            return
        self.web = WebServer(self.store, self.settings, self.delivery.wake, self.clock)
        self.web.listen()

    def _write_state(self, protocol: str) -> None:
        """Tell `listserv status` that this process serves the database, and where."""
        state = runstate.RunState(os.getpid(), self.settings.server.host, self.port, protocol, time.time())
        try:
            runstate.write(self.settings.storage.database, state)
        except OSError as exc:
            where = runstate.path_for(self.settings.storage.database)
            log.warning("cannot write %s (%s): `listserv status` will report the server as down", where, exc)

    async def stopped_by_fault(self) -> ListservError:
        """Wait until a worker task ends on its own (a worker only ends at stop()); the error to exit with."""
        done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
        task = done.pop()
        fault = None if task.cancelled() else task.exception()
        if isinstance(fault, ListservError):
            return fault
        if fault is None:
            return CannotStart(f"the server stopped: its {task.get_name()} worker ended unexpectedly")
        return CannotStart(f"the server stopped: its {task.get_name()} worker failed with {_where(fault)}")

    def _make_outbox(self) -> None:
        """Create a maildir outbox now: one that cannot be made would fail every copy of a server that seemed up."""
        outbox = maildir_path(self.settings.delivery.transport)
        if outbox is None:
            return
        for sub in ("tmp", "new", "cur"):
            try:
                private_files.make_dir(outbox / sub)
            except OSError as exc:
                raise CannotStart(f"cannot create the outbox {outbox / sub}: {exc.strerror or exc}") from None
            if not (outbox / sub).is_dir():  # make_dir leaves whatever exists alone, a file too
                raise CannotStart(f"cannot create the outbox {outbox / sub}: something else is in the way")

    def _warn_open_files(self) -> None:
        """One warning naming every file of posts that group or others can read (after the open: -wal, -shm)."""
        paths = private_files.database_paths(self.settings.storage.database)
        outbox = maildir_path(self.settings.delivery.transport)
        if outbox is not None:
            paths += private_files.maildir_paths(outbox)
        found = private_files.open_to_others(path.absolute() for path in paths)
        if found:
            log.warning(private_files.warning(found))

    async def _warn_unsigned(self) -> None:
        """One warning naming the list domains whose mail goes out without a DKIM signature."""
        unsigned = await domains.without_keys(self.store, self.settings)
        if unsigned:
            log.warning(domains.unsigned_warning(unsigned))

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0)."""
        return self._server.sockets[0].getsockname()[1] if self._server else self.settings.server.port

    async def stop(self) -> None:
        """Stop listening, let the message in the pipeline finish, stop delivery, close the store."""
        if self._server is not None:
            self._server.close()
            runstate.remove(self.settings.storage.database, os.getpid())
        if self.web is not None:
            await self.web.stop()  # before the store closes: a page being answered still reads it
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.pipeline is not None:
            await self.pipeline.stop()
        if self.delivery is not None:
            await self.delivery.stop()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
        if self.store is not None:
            await self.store.close()
        if self._server is not None:  # a daemon that never listened has nothing to report
            log.info("stopped")


def with_overrides(settings: Settings, host: str | None, port: int | None, lmtp: bool | None) -> Settings:
    """Settings with the command line's --host/--port/--lmtp applied."""
    server = settings.server
    server = replace(
        server,
        host=host if host is not None else server.host,
        port=port if port is not None else server.port,
        lmtp=lmtp if lmtp is not None else server.lmtp,
    )
    return replace(settings, server=server)


async def _run(settings: Settings) -> int:
    daemon = Daemon(settings)
    await daemon.start()
    try:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        print(f"listserv: serving on {settings.server.host}:{daemon.port}", flush=True)
        fault = await _first_of(stop.wait(), daemon.stopped_by_fault())
        if not isinstance(fault, ListservError):
            log.info("signal received, shutting down")
    finally:
        await daemon.stop()  # also when a worker failed: nothing may keep the process alive
    if isinstance(fault, ListservError):
        raise fault
    return 0


async def _first_of(*waits: Awaitable) -> object:
    """The result of whichever wait finishes first; the others are cancelled."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        return done.pop().result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _where(exc: BaseException) -> str:
    """The exception's type and innermost frame: enough to find the bug, without its text (may hold content)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    return f"{type(exc).__name__} at {frames[-1].filename}:{frames[-1].lineno} in {frames[-1].name}"


def serve(settings: Settings, host: str | None = None, port: int | None = None, lmtp: bool | None = None) -> int:
    """Run the server until SIGTERM/SIGINT; returns the process exit code."""
    settings = with_overrides(settings, host, port, lmtp)  # a bad --host is refused before anything is set up
    private_files.restrict_umask()  # the database, its -wal/-shm, the outbox and the log file: owner-only
    logsetup.configure(settings.log)
    return asyncio.run(_run(settings))
