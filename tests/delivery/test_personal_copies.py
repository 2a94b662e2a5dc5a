"""Personalised copies (one-click unsubscribe): every transport sends each member their own header lines on top of
the shared message, in a transaction of their own with their VERP sender, whatever the smarthost offers."""

from __future__ import annotations

import pytest

from listserv import verp
from listserv.config import DeliverySettings
from listserv.delivery.maildir import MaildirTransport
from listserv.delivery.smtp import SmtpTransport
from tests.conftest import Sink, running
from tests.delivery.test_maildir import copies
from tests.delivery.test_pipelined import BOUNCES, CONTENT, PEOPLE, PipeliningSink
from tests.delivery.test_xverp import XverpController, XverpSink


def mine(rcpt: str) -> bytes:
    """A member's own header line, with a bare LF as listserv.outgoing.personal writes for LF messages."""
    return f"X-For: {rcpt}\n".encode()


def expected(rcpt: str) -> bytes:
    return f"X-For: {rcpt}\r\n".encode() + CONTENT


@pytest.mark.parametrize("sink_class", [PipeliningSink, Sink], ids=["pipelined", "one-command-at-a-time"])
async def test_each_member_gets_their_own_headers_and_sender(sink_class):
    """Pipelined or not: one transaction per member, from their VERP sender, their line on top, dots intact."""
    with running(sink_class()) as sink:
        transport = SmtpTransport("127.0.0.1", sink.port, DeliverySettings(connections=1, timeout=5))
        try:
            results = await transport.send(BOUNCES, PEOPLE, CONTENT, personal=mine)
        finally:
            await transport.close()
    assert {rcpt: code for rcpt, (code, _) in results.items()} == {r: 250 for r in PEOPLE}
    assert sink.received == [(verp.encode(BOUNCES, r), [r], expected(r)) for r in PEOPLE]


async def test_a_refused_member_does_not_shift_the_others_headers():
    """Pipelined, PEOPLE[1] refused at RCPT: everyone after gets their own line, not a neighbour's."""
    with running(PipeliningSink()) as sink:
        sink.fail_rcpt = {PEOPLE[1]: "550 5.1.1 no such mailbox"}
        transport = SmtpTransport("127.0.0.1", sink.port, DeliverySettings(connections=1, timeout=5))
        try:
            results = await transport.send(BOUNCES, PEOPLE, CONTENT, personal=mine)
        finally:
            await transport.close()
    assert results[PEOPLE[1]][0] == 550
    assert [(rcpts, content) for _, rcpts, content in sink.received] == [
        ([r], expected(r)) for r in PEOPLE if r != PEOPLE[1]]


async def test_a_smarthost_offering_xverp_still_gets_one_transaction_per_member():
    """XVERP would make one transaction of the batch, one message for all: personal copies never use it."""
    with running(XverpSink(), XverpController) as sink:
        transport = SmtpTransport("127.0.0.1", sink.port, DeliverySettings(connections=1, timeout=5))
        try:
            await transport.send(BOUNCES, PEOPLE[:3], CONTENT, xverp=True, personal=mine)
        finally:
            await transport.close()
    assert [(frm, rcpts) for frm, rcpts, _ in sink.received] == [(verp.encode(BOUNCES, r), [r]) for r in PEOPLE[:3]]


async def test_the_maildir_writes_each_members_own_copy(tmp_path):
    """One file per member, their line between the envelope headers and the message."""
    await MaildirTransport(tmp_path).send(BOUNCES, PEOPLE[:2], CONTENT, personal=mine)
    written = copies(tmp_path)
    assert all(copy.endswith(CONTENT) for copy in written)
    assert sorted(line for copy in written for line in copy.split(b"\n") if line.startswith(b"X-For:")) == [
        b"X-For: " + r.encode() for r in PEOPLE[:2]]
