"""Batches (one transaction, many RCPTs) pipelined to a smarthost offering PIPELINING: one round trip, exact answers."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from listserv.config import DeliverySettings
from listserv.delivery import TransportError
from listserv.delivery.smtp import SmtpTransport
from tests.conftest import running
from tests.delivery.test_pipelined import BOUNCES, CONTENT, PEOPLE, PipeliningSink, _codes

TOO_MANY = "452 4.5.3 Error: too many recipients"


class LimitingSink(PipeliningSink):
    """Offers PIPELINING and takes at most `limit` RCPTs per transaction, answering the rest 452 too many."""

    limit = 3

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if len(envelope.rcpt_tos) >= self.limit:
            return TOO_MANY
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


@pytest.fixture
def piping():
    """The recording sink offering PIPELINING (tests/delivery/test_pipelined.py's)."""
    with running(PipeliningSink()) as handler:
        yield handler


@contextlib.asynccontextmanager
async def strict_smarthost(close_after_message: bool = False):
    """A smarthost on loopback that answers nothing before it has read MAIL, every RCPT and DATA: a client that
    waits for each reply never gets one. With close_after_message it hangs up instead of answering the message."""
    got: dict[str, list[bytes]] = {"commands": [], "message": []}

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 strict ESMTP\r\n")
        await reader.readline()
        writer.write(b"250-strict\r\n250-PIPELINING\r\n250 SIZE 1000000\r\n")
        commands = []
        while (line := await reader.readline()) != b"DATA\r\n":
            if line in (b"QUIT\r\n", b""):  # the connection that only learned the extensions
                writer.close()
                return
            commands.append(line)
        got["commands"] = commands
        writer.write(b"250 2.1.0 OK\r\n" + b"250 2.1.5 OK\r\n" * (len(commands) - 1) + b"354 go ahead\r\n")
        while (line := await reader.readline()) not in (b".\r\n", b""):
            got["message"].append(line)
        if not close_after_message:
            writer.write(b"250 2.0.0 queued\r\n")
            await reader.readline()  # QUIT
        writer.close()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], got
    finally:
        server.close()
        await server.wait_closed()


async def test_a_batch_is_one_transaction_for_every_member(piping, transport_to):
    """Not VERP'd: one transaction from the bounce address carrying every member, the dotted lines intact."""
    results = await transport_to(piping.port).send(BOUNCES, PEOPLE, CONTENT)
    assert _codes(results) == {r: 250 for r in PEOPLE}
    assert piping.received == [(BOUNCES, PEOPLE, CONTENT)]


async def test_the_batch_goes_in_one_write_before_any_reply():
    """The smarthost answers only after DATA: the batch still goes through, so no command waited for its reply."""
    async with strict_smarthost() as (port, got):
        transport = SmtpTransport("127.0.0.1", port, DeliverySettings(connections=1, timeout=3))
        try:
            results = await transport.send(BOUNCES, PEOPLE, CONTENT)
        finally:
            await transport.close()
    assert _codes(results) == {r: 250 for r in PEOPLE}
    assert got["commands"][0].startswith(b"MAIL FROM:<" + BOUNCES.encode() + b"> SIZE=")
    assert got["commands"][1:] == [b"RCPT TO:<%s>\r\n" % r.encode() for r in PEOPLE]
    assert b"".join(got["message"]) == CONTENT.replace(b"\r\n.", b"\r\n..")


async def test_a_lost_connection_after_the_message_leaves_every_member_waiting():
    """The smarthost hangs up after the message, before its answer: nobody is counted delivered (code 0)."""
    async with strict_smarthost(close_after_message=True) as (port, _):
        transport = SmtpTransport("127.0.0.1", port, DeliverySettings(connections=1, timeout=3))
        try:
            results = await transport.send(BOUNCES, PEOPLE, CONTENT)
        finally:
            await transport.close()
    assert _codes(results) == {r: 0 for r in PEOPLE}


async def test_refusals_answer_their_members(piping, transport_to):
    """A 550 at one RCPT answers that member; a 451 to the message answers every member accepted."""
    piping.fail_rcpt = {PEOPLE[1]: "550 5.1.1 no such mailbox"}
    transport = transport_to(piping.port)
    first = await transport.send(BOUNCES, PEOPLE, CONTENT)
    piping.tempfail_data = 1
    second = await transport.send(BOUNCES, PEOPLE[2:], CONTENT)
    assert _codes(first) == {**{r: 250 for r in PEOPLE}, PEOPLE[1]: 550}
    assert first[PEOPLE[1]][1] == "5.1.1 no such mailbox"
    assert _codes(second) == {r: 451 for r in PEOPLE[2:]}
    assert piping.recipients() == [r for r in PEOPLE if r != PEOPLE[1]]


async def test_a_refused_sender_is_a_transport_error_and_the_connection_serves_on(piping, transport_to):
    """MAIL refused: TransportError with the reply, nothing delivered; the next batch goes on the same connection."""
    piping.refuse_sender = True
    transport = transport_to(piping.port)
    with pytest.raises(TransportError, match="smarthost refused the sender: 550 5.7.1 sender not allowed"):
        await transport.send(BOUNCES, PEOPLE, CONTENT)
    piping.refuse_sender = False
    assert _codes(await transport.send(BOUNCES, PEOPLE[:2], CONTENT)) == {r: 250 for r in PEOPLE[:2]}
    assert piping.received == [(BOUNCES, PEOPLE[:2], CONTENT)] and len(piping.peers) == 1


async def test_too_many_recipients_are_sent_in_another_transaction(transport_to):
    """452 too many after three RCPTs: the rest go in further transactions on the same connection, each once."""
    with running(LimitingSink()) as limiting:
        results = await transport_to(limiting.port).send(BOUNCES, PEOPLE, CONTENT)
    assert _codes(results) == {r: 250 for r in PEOPLE}
    assert [rcpts for _, rcpts, _ in limiting.received] == [PEOPLE[:3], PEOPLE[3:]]


async def test_members_that_cannot_be_sent_get_their_answer_and_the_rest_one_transaction(piping, transport_to):
    """An address unsafe on a command line is answered 553 without being sent; the others go in one transaction."""
    bad = "ann@example.org>\r\nRCPT TO:<eve@example.org"
    results = await transport_to(piping.port).send(BOUNCES, [bad, *PEOPLE[:2]], CONTENT)
    assert _codes(results) == {bad: 553, PEOPLE[0]: 250, PEOPLE[1]: 250}
    assert piping.received == [(BOUNCES, PEOPLE[:2], CONTENT)]
    assert await transport_to(piping.port).send(BOUNCES, [bad], CONTENT) == {bad: results[bad]}
    assert len(piping.mail_options) == 1  # no transaction for a batch with nobody to send to
