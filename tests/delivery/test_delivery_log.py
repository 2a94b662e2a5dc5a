"""Delivery log lines: each names the list and the post (archive id); a failing smarthost is a WARNING saying why."""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from dataclasses import replace

import aiosmtplib
import pytest

from listserv import lists
from listserv.daemon import Daemon
from listserv.delivery.smtp import _why
from listserv.store import messages
from tests.conftest import free_port
from tests.e2e.helpers import LIST, make_list, message, send

SECRET_SUBJECT = "[CONFIDENTIAL] Client Jones sentencing memo"
SECRET_BODY = "The client's juvenile record shows a sealed adjudication."


@pytest.fixture
async def daemon_to(settings):
    """Start the real daemon delivering to smtp://127.0.0.1:PORT; stopped after the test."""
    started: list[Daemon] = []

    async def start(port: int) -> Daemon:
        daemon = Daemon(replace(settings, delivery=replace(settings.delivery, transport=f"smtp://127.0.0.1:{port}")))
        await daemon.start()
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        await daemon.stop()


async def wait_for_record(caplog, pattern: str, timeout: float = 10.0) -> logging.LogRecord:
    """The first delivery record whose message matches pattern, waiting for the worker to write it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for record in caplog.records:
            if record.name == "listserv.delivery.worker" and re.search(pattern, record.getMessage()):
                return record
        assert asyncio.get_running_loop().time() < deadline, f"no delivery line matching {pattern!r}: {caplog.text}"
        await asyncio.sleep(0.05)


async def archive_id(store) -> int:
    """The archive number of the one post (the pipeline logs in its own process, so ask the store)."""
    (post,) = await messages.for_list(store.db, (await lists.get(store, LIST)).id)
    return post["id"]


async def test_refused_connection_is_a_warning_naming_list_post_and_reason(daemon_to, cli, caplog, store):
    """Nothing listens at the smarthost's port: WARNING 'LIST archive:N ...: cannot connect ...: connection refused'."""
    caplog.set_level(logging.INFO)
    closed = free_port()
    daemon = await daemon_to(closed)
    await make_list(cli)
    await send(daemon.port, message("ann@example.org", "Hello"), "ann@example.org")
    record = await wait_for_record(caplog, "waiting")
    assert record.levelno == logging.WARNING
    text = record.getMessage()
    assert text.startswith(f"{LIST} archive:{await archive_id(store)} (batch ")
    assert f"cannot connect to smarthost 127.0.0.1:{closed}: connection refused" in text
    assert "next try in" in text


async def test_delivered_copies_are_an_info_line_naming_list_and_post(daemon_to, sink, cli, caplog, store):
    """A try that reached everyone is one INFO line naming the list, the archive id and the count."""
    caplog.set_level(logging.INFO)
    daemon = await daemon_to(sink.port)
    await make_list(cli)
    await send(daemon.port, message("ann@example.org", "Hello"), "ann@example.org")
    record = await wait_for_record(caplog, "delivered")
    assert record.levelno == logging.INFO
    assert record.getMessage() == f"{LIST} archive:{await archive_id(store)} (batch 1, try 1): 3 delivered"


async def test_smarthost_refusals_are_a_warning_with_its_reply(daemon_to, sink, cli, caplog, store):
    """A 451 at DATA and a 550 at RCPT: WARNING with the smarthost's own words for each, addresses masked."""
    caplog.set_level(logging.INFO)
    sink.tempfail_data = 1
    sink.fail_rcpt["cy@example.org"] = "550 5.1.1 <cy@example.org>: no such mailbox here"
    daemon = await daemon_to(sink.port)
    await make_list(cli)
    await send(daemon.port, message("ann@example.org", "Hello"), "ann@example.org")
    record = await wait_for_record(caplog, "failed for good")
    assert record.levelno == logging.WARNING
    text = record.getMessage()
    # A small list is VERP'd (a transaction per member): ann's DATA got the 451, bob's went through.
    assert text == (f"{LIST} archive:{await archive_id(store)} (batch 1, try 1): 1 delivered, "
                    "1 failed for good (550 5.1.1 <address>: no such mailbox here), "
                    "1 waiting: 451 4.3.0 sink says try again later; next try in 1s")


async def test_confidential_subject_and_text_never_reach_the_log(daemon_to, cli, caplog):
    """Every logger at DEBUG while a confidential post is refused by the smarthost: no subject, no text."""
    caplog.set_level(logging.DEBUG)
    daemon = await daemon_to(free_port())
    await make_list(cli)
    await send(daemon.port, message("ann@example.org", SECRET_SUBJECT, SECRET_BODY), "ann@example.org")
    await wait_for_record(caplog, "connection refused")
    assert "Jones" not in caplog.text and "juvenile" not in caplog.text and "sealed" not in caplog.text


def test_tls_failure_is_named():
    """A TLS handshake that fails (e.g. an untrusted certificate) says 'TLS failed' with the library's reason."""
    wrapped = aiosmtplib.SMTPConnectError("Error connecting to smarthost")
    wrapped.__cause__ = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    assert _why(wrapped).startswith("TLS failed: ") and "CERTIFICATE_VERIFY_FAILED" in _why(wrapped)


def test_refused_timeout_and_socket_errors_are_named():
    """Refused, timed out and other socket errors each read as what an owner can act on."""
    refused = aiosmtplib.SMTPConnectError("Error connecting")
    refused.__cause__ = ConnectionRefusedError(111, "Connect call failed")
    assert _why(refused).startswith("connection refused")
    assert _why(aiosmtplib.SMTPConnectTimeoutError("Timed out waiting for server ready message")).startswith(
        "no answer within the timeout")
    unreachable = aiosmtplib.SMTPConnectError("Error connecting")
    unreachable.__cause__ = OSError(113, "No route to host")
    assert _why(unreachable) == "No route to host"
