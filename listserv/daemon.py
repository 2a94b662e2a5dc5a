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
from dataclasses import replace
from typing import Callable

from listserv import logscrub, logsetup, periodic, private_files, runstate
from listserv.config import Settings
from listserv.delivery import maildir_path
from listserv.delivery.worker import DeliveryWorker
from listserv.errors import CannotListen
from listserv.intake import IntakeHandler, protocol_factory
from listserv.pipeline_worker import PipelineProcess
from listserv.store import Store

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
        self._server: asyncio.base_events.Server | None = None
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        logscrub.install()  # before the first query or SMTP line: libraries log content at DEBUG otherwise
        self.store = await Store.open(self.settings.storage.database, self.settings.storage.checkpoint_wait)
        self._warn_open_files()
        self.delivery = DeliveryWorker(self.store, self.settings)
        self.scheduler = periodic.Scheduler(self.store, self.settings, self.clock, self.tick, self.delivery.wake)
        self._tasks = [
            asyncio.create_task(self.delivery.run(), name="delivery"),
            asyncio.create_task(self.scheduler.run(), name="periodic"),
        ]
        self.pipeline = PipelineProcess(self.settings, on_deliver=self.delivery.wake)
        handler = IntakeHandler(self.store, self.settings, on_enqueued=self.pipeline.wake)
        hostname = self.settings.server.hostname or socket.getfqdn()
        try:
            self._server = await asyncio.get_running_loop().create_server(
                protocol_factory(handler, self.settings, hostname),
                host=self.settings.server.host,
                port=self.settings.server.port,
            )
        except OSError as exc:
            await self.stop()
            where = f"{self.settings.server.host}:{self.settings.server.port}"
            raise CannotListen(f"cannot listen on {where}: {exc.strerror or exc}") from None
        await self.pipeline.start()  # after listening: a daemon that cannot listen starts no child
        protocol = "LMTP" if self.settings.server.lmtp else "SMTP"
        log.info("listening on %s:%d (%s)", self.settings.server.host, self.port, protocol)
        self._write_state(protocol)

    def _write_state(self, protocol: str) -> None:
        """Tell `listserv status` that this process serves the database, and where."""
        state = runstate.RunState(os.getpid(), self.settings.server.host, self.port, protocol, time.time())
        try:
            runstate.write(self.settings.storage.database, state)
        except OSError as exc:
            where = runstate.path_for(self.settings.storage.database)
            log.warning("cannot write %s (%s): `listserv status` will report the server as down", where, exc)

    def _warn_open_files(self) -> None:
        """One warning naming every file of posts that group or others can read (after the open: -wal, -shm)."""
        paths = private_files.database_paths(self.settings.storage.database)
        outbox = maildir_path(self.settings.delivery.transport)
        if outbox is not None:
            paths += private_files.maildir_paths(outbox)
        found = private_files.open_to_others(path.absolute() for path in paths)
        if found:
            log.warning(private_files.warning(found))

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0)."""
        return self._server.sockets[0].getsockname()[1] if self._server else self.settings.server.port

    async def stop(self) -> None:
        """Stop listening, let the message in the pipeline finish, stop delivery, close the store."""
        if self._server is not None:
            self._server.close()
            runstate.remove(self.settings.storage.database, os.getpid())
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
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"listserv: serving on {settings.server.host}:{daemon.port}", flush=True)
    await stop.wait()
    log.info("signal received, shutting down")
    await daemon.stop()
    return 0


def serve(settings: Settings, host: str | None = None, port: int | None = None, lmtp: bool | None = None) -> int:
    """Run the server until SIGTERM/SIGINT; returns the process exit code."""
    private_files.restrict_umask()  # the database, its -wal/-shm, the outbox and the log file: owner-only
    logsetup.configure(settings.log)
    return asyncio.run(_run(with_overrides(settings, host, port, lmtp)))
