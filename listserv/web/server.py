"""uvicorn serving the web pages inside the daemon's event loop, so `listserv serve` is the only process to run.

The socket is bound here, before uvicorn starts, so a taken port is one
CannotListen line like the SMTP listener's, and port 0 tells its real port.
uvicorn's own signal handling is left out: the daemon owns SIGTERM/SIGINT and
stops the web server in Daemon.stop(). Its access log is off: URLs carry
login tokens and search words.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Callable, Iterator

import uvicorn

from listserv.config import Settings
from listserv.errors import CannotListen
from listserv.store import Store
from listserv.web.app import build


class _Embedded(uvicorn.Server):
    """uvicorn.Server that leaves the process's signal handlers to the daemon."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebServer:
    """start() binds and serves in a task of the running loop; stop() ends it."""

    def __init__(self, store: Store, settings: Settings, on_queued: Callable[[], None],
                 clock: Callable[[], float]) -> None:
        app = build(store, settings, on_queued, clock)
        config = uvicorn.Config(app, lifespan="off", access_log=False, log_config=None, log_level="warning",
                                server_header=False, timeout_graceful_shutdown=5)
        self.settings = settings
        self._server = _Embedded(config)
        self._socket: socket.socket | None = None
        self.task: asyncio.Task | None = None

    def listen(self) -> None:
        """Bind the configured host and port; CannotListen naming them when that fails."""
        web = self.settings.web
        try:
            family = socket.AF_INET6 if ":" in web.host else socket.AF_INET
            # IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets that say TCP, and without it every
            # page (headers, then body) waits ~40 ms for the client's delayed ACK.
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        except OSError as exc:
            raise CannotListen(f"cannot listen on {web.host}:{web.port} (web): {exc.strerror or exc}") from None
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((web.host, web.port))
            sock.listen(128)
        except (OSError, OverflowError) as exc:
            sock.close()
            where = f"{web.host}:{web.port}"
            raise CannotListen(f"cannot listen on {where} (web): {getattr(exc, 'strerror', None) or exc}") from None
        sock.setblocking(False)
        self._socket = sock

    def serve(self) -> asyncio.Task:
        """Start serving on the bound socket in a task named "web"."""
        self.task = asyncio.create_task(self._server.serve(sockets=[self._socket]), name="web")
        return self.task

    @property
    def port(self) -> int:
        return self._socket.getsockname()[1] if self._socket else self.settings.web.port

    async def stop(self) -> None:
        """Ask uvicorn to finish (open requests end, idle connections close) and wait for it."""
        self._server.should_exit = True
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)
        elif self._socket is not None:
            self._socket.close()
