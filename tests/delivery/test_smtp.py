"""The SMTP transport against a real aiosmtpd smarthost on loopback: per-recipient replies, the pool, failures."""

from __future__ import annotations

import asyncio

import pytest

from listserv.delivery import TransportError
from listserv.delivery.smtp import BAD_ADDRESS, NEEDS_SMTPUTF8, SmtpTransport
from tests.conftest import free_port
from tests.delivery.helpers import BOUNCES, POST, addresses, delivery


@pytest.fixture
async def transport_to(settings, make_sink):
    """transport_to(port, **delivery_keys) -> SmtpTransport; all are closed after the test, before the sinks
    stop (make_sink is set up first so that it is torn down last: a sink stopped under an open connection
    leaves that connection's socket to the garbage collector)."""
    made: list[SmtpTransport] = []

    def make(port: int, **changes) -> SmtpTransport:
        made.append(SmtpTransport("127.0.0.1", port, delivery(settings, **changes).delivery))
        return made[-1]

    yield make
    for transport in made:
        await transport.close()


@pytest.fixture
def smtp(transport_to, watching) -> SmtpTransport:
    return transport_to(watching.port)


async def test_every_recipient_gets_its_own_reply_in_one_transaction(smtp, watching):
    """One MAIL, one RCPT each and one DATA: 250 for the accepted, the refusal for the refused."""
    watching.fail_rcpt["gone@example.org"] = "550 5.1.1 no such mailbox"
    watching.fail_rcpt["full@example.org"] = "452 4.2.2 mailbox full"
    recipients = ["ann@example.org", "gone@example.org", "full@example.org", "bob@example.org"]
    results = await smtp.send(BOUNCES, recipients, POST)
    assert results["ann@example.org"][0] == 250
    assert results["bob@example.org"][0] == 250
    assert results["gone@example.org"] == (550, "5.1.1 no such mailbox")
    assert results["full@example.org"] == (452, "4.2.2 mailbox full")
    assert watching.transactions == watching.mails == 1  # a full mailbox is not retried at once
    assert watching.received == [(BOUNCES, ["ann@example.org", "bob@example.org"], POST)]


async def test_data_refusal_applies_to_every_accepted_recipient(smtp, watching):
    """A 451 after DATA is the answer for everyone the RCPTs accepted; RCPT refusals keep their own."""
    watching.tempfail_data = 1
    watching.fail_rcpt["gone@example.org"] = "550 5.1.1 no such mailbox"
    results = await smtp.send(BOUNCES, ["ann@example.org", "gone@example.org", "bob@example.org"], POST)
    assert results["ann@example.org"] == results["bob@example.org"] == (451, "4.3.0 sink says try again later")
    assert results["gone@example.org"][0] == 550
    assert watching.received == []


async def test_all_refused_sends_no_data_and_leaves_the_connection_usable(smtp, watching):
    """When every RCPT is refused no DATA is sent; the same connection serves the next batch."""
    watching.fail_rcpt["gone@example.org"] = "550 5.1.1 no such mailbox"
    assert await smtp.send(BOUNCES, ["gone@example.org"], POST) == {"gone@example.org": (550, "5.1.1 no such mailbox")}
    assert watching.transactions == 0
    results = await smtp.send(BOUNCES, ["ann@example.org"], POST)
    assert results["ann@example.org"][0] == 250
    assert len(watching.peers) == 1


async def test_connections_are_kept_and_reused_between_batches(smtp, watching):
    """Ten batches one after another travel over a single connection."""
    for n in range(10):
        results = await smtp.send(BOUNCES, [f"m{n}@example.org"], POST)
        assert results[f"m{n}@example.org"][0] == 250
    assert watching.transactions == 10
    assert len(watching.peers) == 1


async def test_concurrent_sends_use_at_most_connections_connections(transport_to, watching):
    """Eight batches at once spread over the pool of three connections, never more, several at a time."""
    watching.data_delay = 0.15
    transport = transport_to(watching.port, connections=3)
    batches = [addresses(5, f"d{n}.example") for n in range(8)]
    replies = await asyncio.gather(*(transport.send(BOUNCES, batch, POST) for batch in batches))
    assert all(code == 250 for results in replies for code, _ in results.values())
    assert len(watching.peers) == 3
    assert watching.max_active == 3
    assert sorted(watching.recipients()) == sorted(r for batch in batches for r in batch)


async def test_a_dropped_connection_is_replaced_before_the_next_batch(smtp, watching):
    """After the smarthost closed the pooled connection, the next batch reconnects and is delivered."""
    assert (await smtp.send(BOUNCES, ["ann@example.org"], POST))["ann@example.org"][0] == 250
    watching.drop_connections()
    await asyncio.sleep(0.1)
    assert (await smtp.send(BOUNCES, ["bob@example.org"], POST))["bob@example.org"][0] == 250
    assert len(watching.peers) == 2
    assert watching.recipients() == ["ann@example.org", "bob@example.org"]


async def test_connection_refused_is_a_transport_error(transport_to):
    """Nothing listening on the port: TransportError naming the smarthost, not a per-recipient answer."""
    port = free_port()
    transport = transport_to(port)
    with pytest.raises(TransportError, match=f"cannot connect to smarthost 127.0.0.1:{port}"):
        await transport.send(BOUNCES, ["ann@example.org"], POST)


async def test_a_silent_smarthost_times_out_as_a_transport_error(transport_to):
    """A server that accepts the connection but never greets costs `timeout` seconds, then TransportError."""
    accepted: list[asyncio.StreamWriter] = []
    server = await asyncio.start_server(lambda reader, writer: accepted.append(writer), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = transport_to(port, timeout=1)
    try:
        with pytest.raises(TransportError, match="cannot connect"):
            await asyncio.wait_for(transport.send(BOUNCES, ["ann@example.org"], POST), timeout=5)
    finally:
        for writer in accepted:  # closing the server does not close the connections it accepted
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_refused_sender_is_a_transport_error_with_the_reply(smtp, watching):
    """MAIL FROM refused: no recipient was tried, so the batch waits (TransportError carries the reply)."""

    async def refuse(server, session, envelope, address, mail_options):
        return "553 5.7.1 sender not allowed to relay"

    watching.handle_MAIL = refuse
    with pytest.raises(TransportError, match="553 5.7.1 sender not allowed"):
        await smtp.send(BOUNCES, ["ann@example.org"], POST)
    assert watching.received == []


async def test_unsafe_addresses_are_refused_locally_and_never_rewritten(smtp, watching):
    """An address that would be mangled or inject commands gets 553 unsent; the others are delivered."""
    bad = ["ann@example.org>\r\nRCPT TO:<eve@example.org", "a,b@example.org", "Eve <eve@example.org>", "no-at-sign"]
    results = await smtp.send(BOUNCES, [*bad, "bob@example.org"], POST)
    assert all(results[address] == BAD_ADDRESS for address in bad)
    assert results["bob@example.org"][0] == 250
    assert watching.recipients() == ["bob@example.org"]


async def test_non_ascii_addresses_need_smtputf8(transport_to, make_sink):
    """Without SMTPUTF8 a non-ASCII local part is refused (553 5.6.7); a non-ASCII domain goes as IDNA."""
    sink = make_sink(enable_SMTPUTF8=False)
    results = await transport_to(sink.port).send(BOUNCES, ["zoë@example.org", "ann@bücher.example"], POST)
    assert results["zoë@example.org"] == NEEDS_SMTPUTF8
    assert results["ann@bücher.example"][0] == 250
    assert sink.recipients() == ["ann@xn--bcher-kva.example"]


async def test_non_ascii_addresses_go_as_utf8_when_offered(smtp, watching):
    """A smarthost offering SMTPUTF8 gets the address in UTF-8 and the SMTPUTF8 parameter."""
    results = await smtp.send(BOUNCES, ["zoë@example.org"], POST)
    assert results["zoë@example.org"][0] == 250
    assert watching.recipients() == ["zoë@example.org"]
    assert "SMTPUTF8" in watching.mail_options


async def test_eight_bit_content_is_announced_and_arrives_intact(smtp, watching):
    """A UTF-8 body goes with BODY=8BITMIME and SIZE, byte for byte (dot-stuffing undone by the server)."""
    content = POST + "Grüße aus Köln.\r\n.a line starting with a dot\r\n".encode()
    results = await smtp.send(BOUNCES, ["ann@example.org"], content)
    assert results["ann@example.org"][0] == 250
    assert watching.received[0][2] == content
    assert "BODY=8BITMIME" in watching.mail_options
    assert any(option.startswith("SIZE=") for option in watching.mail_options)


async def test_over_the_smarthosts_recipient_limit_the_rest_go_in_another_transaction(smtp, watching):
    """452 4.5.3 past the smarthost's limit: the deferred recipients are sent at once in the next transaction."""
    watching.rcpt_limit = 3
    recipients = addresses(8)
    results = await smtp.send(BOUNCES, recipients, POST)
    assert all(results[r][0] == 250 for r in recipients)
    assert watching.transactions == watching.mails == 3
    assert sorted(watching.recipients()) == recipients


async def test_duplicate_recipients_get_one_copy(smtp, watching):
    """The same address twice in a batch is sent one RCPT, so one copy."""
    results = await smtp.send(BOUNCES, ["ann@example.org", "ann@example.org"], POST)
    assert list(results) == ["ann@example.org"]
    assert watching.recipients() == ["ann@example.org"]


async def test_an_empty_batch_touches_no_network(transport_to):
    """No recipients: no connection is even attempted (the port has no listener)."""
    transport = transport_to(free_port())
    assert await transport.send(BOUNCES, [], POST) == {}


async def test_452_to_everyone_is_not_retried_in_a_loop(smtp, watching):
    """A smarthost deferring every recipient with 452 4.5.3: one transaction, the 452s are the answer."""
    for address in ("ann@example.org", "bob@example.org"):
        watching.fail_rcpt[address] = "452 4.5.3 Too many recipients"
    results = await smtp.send(BOUNCES, ["ann@example.org", "bob@example.org"], POST)
    assert {code for code, _ in results.values()} == {452}
    assert watching.mails == 1
