"""Plain helpers of the delivery tests: a watching sink, an injectable clock, settings and queue shortcuts."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import replace

from listserv.store import outbound
from tests.conftest import Sink

LIST = "team@lists.test"
BOUNCES = "team-bounces@lists.test"
POST = (
    b"From: ann@lists.test\r\nTo: team@lists.test\r\nSubject: [team] Records request\r\n"
    b"Message-ID: <post-1@lists.test>\r\n\r\nWho has the school records?\r\n"
)


class WatchingSink(Sink):
    """The recording sink, plus what the delivery tests ask of a smarthost.

    It counts distinct client connections (pool reuse) and the most DATA
    commands in progress at once (concurrency), can hold each DATA for
    `data_delay` seconds, answers 452 past `rcpt_limit` recipients per
    transaction, and can drop every open connection.
    """

    def __init__(self) -> None:
        super().__init__()
        self.peers: set = set()
        self.mail_options: list[str] = []  # every MAIL FROM parameter seen, upper-cased
        self.mails = 0  # MAIL FROM commands: transactions begun, with or without DATA
        self.data_delay = 0.0
        self.rcpt_limit = 0
        self.active = 0
        self.max_active = 0
        self.data_started = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._servers: list = []

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self._lock:
            self.mails += 1
            self.peers.add(session.peer)
            self._servers.append(server)
            self.mail_options.extend(option.upper() for option in mail_options)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_limit and len(envelope.rcpt_tos) >= self.rcpt_limit:
            return "452 4.5.3 Too many recipients"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        self.data_started.set()
        try:
            await asyncio.sleep(self.data_delay)
            return await super().handle_DATA(server, session, envelope)
        finally:
            with self._lock:
                self.active -= 1

    def drop_connections(self) -> None:
        """Close every connection the sink has seen, as a restarting smarthost would."""
        with self._lock:
            servers, self._servers = self._servers, []
        for server in servers:
            if server.transport is not None:
                self.loop.call_soon_threadsafe(server.transport.close)


def delivery(settings, **changes):
    """settings with [delivery] keys changed."""
    return replace(settings, delivery=replace(settings.delivery, **changes))


def to_sink(settings, sink, **changes):
    """settings whose transport is that sink, with [delivery] keys changed."""
    return delivery(settings, transport=f"smtp://127.0.0.1:{sink.port}", **changes)


class Clock:
    """An injectable clock: the real time plus however far a test moved it on."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def addresses(count: int, domain: str = "example.org") -> list[str]:
    return [f"member{n:04d}@{domain}" for n in range(count)]


async def queue_rows(store) -> list[dict]:
    """Every batch still owed, as `queue ls` sees it."""
    return await outbound.listing(store.db)
