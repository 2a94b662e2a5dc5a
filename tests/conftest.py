"""Fixtures built from real parts: a temp SQLite store, an aiosmtpd sink as smarthost, settings.

Each fixture is function-scoped so tests never share state.
"""

from __future__ import annotations

import asyncio
import contextlib
import mailbox
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from listserv import config
from listserv.store import Store

CORPUS = Path(__file__).resolve().parent / "data" / "corpus"  # copies of real messages; see its README


def mbox_messages(path) -> list[mailbox.mboxMessage]:
    """Every message of the mbox at path, read with Python's mailbox and the file closed again (mailbox.mbox
    keeps its file open until close(), which a test would otherwise leave to the garbage collector)."""
    box = mailbox.mbox(path)
    try:
        return list(box)
    finally:
        box.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """A recording smarthost: every transaction it accepted, with scripted failures.

    fail_rcpt maps an address to the reply its RCPT gets (e.g. a 550);
    tempfail_data is how many DATA commands to answer 451 before accepting.
    """

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.fail_rcpt: dict[str, str] = {}
        self.tempfail_data = 0
        self.transactions = 0
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.fail_rcpt.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.transactions += 1
            if self.tempfail_data > 0:
                self.tempfail_data -= 1
                return "451 4.3.0 sink says try again later"
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 2.0.0 OK"

    def copies_for(self, address: str) -> list[bytes]:
        """Every message body delivered to address, in arrival order."""
        with self._lock:
            return [content for _, rcpts, content in self.received if address in rcpts]

    def recipients(self) -> list[str]:
        with self._lock:
            return [r for _, rcpts, _ in self.received for r in rcpts]

    async def wait_for(self, predicate, timeout: float = 30.0) -> None:
        """Wait until predicate() holds; fail the test with a clear message if it never does."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"sink: condition not met within {timeout}s; received {len(self.received)}")
            await asyncio.sleep(0.02)


@pytest.fixture(autouse=True)
def time_zone(monkeypatch):
    """People read times in the server's local zone: every test runs in UTC unless it asks for another.

    Returns a function that switches this process (and the subprocesses it
    starts, through TZ) to another zone, e.g. time_zone("Europe/Berlin").
    """
    def switch(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    switch("UTC")
    yield switch
    monkeypatch.undo()
    time.tzset()


@contextlib.contextmanager
def running(handler, controller_class: type = Controller):
    """An aiosmtpd handler listening on a free loopback port (handler.port) until the block ends."""
    controller = controller_class(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def sink():
    with running(Sink()) as handler:
        yield handler


@pytest.fixture
def settings(tmp_path, dns) -> config.Settings:
    """Defaults with the database and maildir under tmp_path, a free listening port, and DNS asked only of
    the loopback server `dns` (empty unless the test adds records), so no test asks the internet."""
    base = config.Settings()
    return replace(
        base,
        dns=replace(base.dns, nameservers=(dns.nameserver,), timeout=2.0),
        server=replace(base.server, port=free_port(), hostname="lists.test"),
        web=replace(base.web, enabled=False, port=0),  # tests that want the web pages use the `web` fixtures
        storage=replace(base.storage, database=str(tmp_path / "listserv.db")),
        delivery=replace(base.delivery, transport=f"maildir:{tmp_path / 'outbox'}", retry_schedule=(1, 1, 2), poll_interval=0.1),
    )


@pytest.fixture
def dns():
    """A real DNS server on loopback (UDP and TCP) serving tests.dns_server.Zone; add records to dns.zone."""
    from tests.dns_server import LoopbackDns, Zone

    for _ in range(5):  # the UDP and TCP port must both be free; another process may take one meanwhile
        try:
            server = LoopbackDns(Zone(), free_port())
            break
        except OSError:
            continue
    else:
        raise AssertionError("no free port pair for the loopback DNS server")
    yield server
    server.stop()


@pytest.fixture
def smtp_settings(settings, sink) -> config.Settings:
    """settings whose transport is the sink."""
    return replace(settings, delivery=replace(settings.delivery, transport=f"smtp://127.0.0.1:{sink.port}"))


@pytest.fixture
async def store(settings):
    opened = await Store.open(settings.storage.database)
    yield opened
    await opened.close()


@pytest.fixture
async def server(smtp_settings):
    """The real daemon (intake, pipeline, delivery) in this process, delivering to the sink."""
    from listserv.daemon import Daemon

    daemon = Daemon(smtp_settings)
    await daemon.start()
    yield daemon
    await daemon.stop()


def write_config(directory: Path, settings: config.Settings) -> Path:
    """settings as directory/listserv.toml, for the CLI and daemon subprocesses."""
    path = directory / "listserv.toml"
    path.write_text(config.to_toml(settings))
    return path


@pytest.fixture
def config_file(tmp_path, smtp_settings) -> Path:
    """smtp_settings written out as a configuration file, for the CLI."""
    return write_config(tmp_path, smtp_settings)


@pytest.fixture
def cli(config_file):
    """Run `listserv --config F ARGS...` with click's CliRunner in a thread (tests may hold a loop)."""
    from click.testing import CliRunner

    from cli import main

    async def invoke(*args: str, input: str | None = None):
        runner = CliRunner()
        return await asyncio.to_thread(runner.invoke, main, ["--config", str(config_file), *args], input=input)

    return invoke
