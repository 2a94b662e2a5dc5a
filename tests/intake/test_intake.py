"""Intake over real loopback SMTP/LMTP: refuse early, commit durably, then 250."""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import replace

import aiosmtplib
import pytest

from listserv import lists, replies
from listserv.intake import IntakeHandler, protocol_factory
from listserv.store import inbound

POST = b"From: ann@example.org\r\nTo: team@example.org\r\nSubject: hello\r\nMessage-ID: <1@example.org>\r\n\r\nbody\r\n"


async def start(store, settings):
    handler = IntakeHandler(store, settings)
    server = await asyncio.get_running_loop().create_server(
        protocol_factory(handler, settings, "lists.test"), host="127.0.0.1", port=0
    )
    return server, server.sockets[0].getsockname()[1]


@pytest.fixture
async def intake(store, settings):
    await lists.create(store, "team@example.org")
    server, port = await start(store, settings)
    yield port
    server.close()
    await server.wait_closed()


async def client(port: int) -> aiosmtplib.SMTP:
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    await smtp.connect()
    await smtp.ehlo()
    await smtp.mail("ann@example.org")
    return smtp


async def test_unknown_recipient_gets_550_at_rcpt(intake):
    """A recipient that is no list address is refused at RCPT with 550 5.1.1."""
    smtp = await client(intake)
    code, text = await _rcpt(smtp, "nobody@example.org")
    assert (code, text) == (550, replies.S550_NO_SUCH_LIST[4:])
    await smtp.quit()


async def _rcpt(smtp: aiosmtplib.SMTP, address: str) -> tuple[int, str]:
    response = await smtp.execute_command(f"RCPT TO:<{address}>".encode())
    return response.code, response.message


@pytest.mark.parametrize(
    "address",
    [
        "team@example.org", "TEAM@Example.org", "team+confidential@example.org", "team-request@example.org",
        "team-owner@example.org", "team-bounces@example.org", "team-bounces+bob=example.com@example.org",
    ],
)
async def test_every_list_address_is_accepted_at_rcpt(intake, address):
    """Posts, confidential posts, commands, owner mail and bounces are all taken."""
    smtp = await client(intake)
    assert (await _rcpt(smtp, address))[0] == 250
    await smtp.quit()


@pytest.mark.parametrize("address", ["team+other@example.org", "team@example.com", "other-request@example.org"])
async def test_near_misses_are_refused(intake, address):
    """Another domain, an unknown +detail or another list's -request are not ours."""
    smtp = await client(intake)
    assert (await _rcpt(smtp, address))[0] == 550
    await smtp.quit()


async def test_data_is_committed_before_250(intake, store):
    """After 250 the raw bytes and the envelope are in the inbound queue, byte for byte."""
    errors, reply = await aiosmtplib.send(
        POST, sender="bounce@example.org", recipients=["team@example.org"], hostname="127.0.0.1", port=intake
    )
    assert errors == {} and reply.startswith("2.0.0")
    (row_id,) = await inbound.pending_ids(store.db)
    row = await inbound.get(store.db, row_id)
    assert row["raw"] == POST
    assert row["mail_from"] == "bounce@example.org"
    assert row["rcpt_tos"] == ["team@example.org"]


async def test_oversize_message_gets_552(store, settings):
    """A message over max_message_size is refused with 552 5.3.4 and nothing is queued."""
    await lists.create(store, "team@example.org")
    small = replace(settings, server=replace(settings.server, max_message_size=1000))
    server, port = await start(store, small)
    big = POST + b"xxxxxxxxxx\r\n" * 200
    smtp = await client(port)  # MAIL FROM without SIZE=, so the limit is met during DATA
    await _rcpt(smtp, "team@example.org")
    with pytest.raises(aiosmtplib.SMTPDataError) as err:
        await smtp.data(big)
    assert err.value.code == 552 and "5.3.4" in err.value.message
    assert await inbound.count_pending(store.db) == 0
    server.close()


async def test_declared_size_over_limit_gets_552_at_mail(store, settings):
    """MAIL FROM with SIZE= over the limit is refused before any data is sent."""
    await lists.create(store, "team@example.org")
    small = replace(settings, server=replace(settings.server, max_message_size=1000))
    server, port = await start(store, small)
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    await smtp.connect()
    await smtp.ehlo()
    response = await smtp.execute_command(b"MAIL FROM:<a@example.org> SIZE=5000")
    assert response.code == 552 and "5.3.4" in response.message
    await smtp.quit()
    server.close()


async def test_store_failure_gets_451_and_nothing_half_written(intake, store):
    """When the commit fails the sender hears 451 4.3.0 (retry), never a 5xx and never a 250."""
    await store.write(_failing_trigger)
    with pytest.raises(aiosmtplib.SMTPDataError) as err:
        await aiosmtplib.send(POST, sender="a@example.org", recipients=["team@example.org"], hostname="127.0.0.1", port=intake)
    assert err.value.code == 451 and "4.3.0" in err.value.message
    assert await inbound.count_pending(store.db) == 0


async def _failing_trigger(db):
    await db.execute(
        "CREATE TEMP TRIGGER refuse BEFORE INSERT ON main.inbound BEGIN SELECT RAISE(ABORT, 'disk is full'); END"
    )


async def test_too_many_recipients_get_452(store, settings):
    """Past server.max_recipients RCPTs in one transaction the extra ones get 452 4.5.3."""
    await lists.create(store, "team@example.org")
    few = replace(settings, server=replace(settings.server, max_recipients=2))
    server, port = await start(store, few)
    smtp = await client(port)
    codes = [(await _rcpt(smtp, a))[0] for a in ("team@example.org", "team-request@example.org", "team-owner@example.org")]
    assert codes == [250, 250, 452]
    await smtp.quit()
    server.close()


async def test_concurrent_sessions_are_all_committed(intake, store):
    """Twenty clients at once all get 250 and every message is queued once (group commit)."""
    async def one(i: int):
        msg = POST.replace(b"<1@", f"<{i}@".encode())
        return await aiosmtplib.send(msg, sender="a@example.org", recipients=["team@example.org"], hostname="127.0.0.1", port=intake)
    results = await asyncio.gather(*(one(i) for i in range(20)))
    assert all(errors == {} for errors, _ in results)
    assert await inbound.count_pending(store.db) == 20


async def test_lmtp_answers_data_once_per_recipient(store, settings):
    """In LMTP mode (RFC 2033) LHLO works and DATA gets one 250 per recipient."""
    await lists.create(store, "team@example.org")
    lmtp = replace(settings, server=replace(settings.server, lmtp=True))
    server, port = await start(store, lmtp)

    def send() -> list[tuple[int, bytes]]:
        with smtplib.LMTP("127.0.0.1", port) as conn:
            conn.ehlo_or_helo_if_needed()
            conn.mail("a@example.org")
            conn.rcpt("team@example.org")
            conn.rcpt("team-owner@example.org")
            return [conn.data(POST), conn.getreply()]  # smtplib reads only the first of the two

    assert [code for code, _ in await asyncio.to_thread(send)] == [250, 250]
    (row_id,) = await inbound.pending_ids(store.db)
    assert (await inbound.get(store.db, row_id))["rcpt_tos"] == ["team@example.org", "team-owner@example.org"]
    server.close()


async def test_lines_longer_than_rfc5321_are_kept(intake, store):
    """A 5,000-octet line (HTML from a web mailer) is accepted and stored unchanged, not refused."""
    long_line = POST + b"<p>" + b"y" * 5000 + b"</p>\r\n"
    errors, _ = await aiosmtplib.send(long_line, sender="a@example.org", recipients=["team@example.org"], hostname="127.0.0.1", port=intake)
    assert errors == {}
    (row_id,) = await inbound.pending_ids(store.db)
    assert (await inbound.get(store.db, row_id))["raw"] == long_line


async def test_list_created_after_start_is_accepted_at_once(store, settings):
    """A list created while the server runs is accepted at the next RCPT (misses always ask the store)."""
    server, port = await start(store, settings)
    smtp = await client(port)
    assert (await _rcpt(smtp, "late@example.org"))[0] == 550
    await lists.create(store, "late@example.org")
    assert (await _rcpt(smtp, "late@example.org"))[0] == 250
    await smtp.quit()
    server.close()


async def test_deleted_list_is_forgotten_after_the_ttl(store):
    """KnownAddresses stops accepting a deleted list once its memory expires."""
    from listserv.intake import KnownAddresses

    now = [0.0]
    known = KnownAddresses(store, ttl=5.0, clock=lambda: now[0])
    await lists.create(store, "gone@example.org")
    assert await known("gone@example.org")
    await lists.delete(store, "gone@example.org")
    assert await known("gone@example.org")  # remembered within the ttl; the pipeline copes
    now[0] = 6.0
    assert not await known("gone@example.org")


# Control characters as they arrive on the wire: C0 (NUL, SOH, ESC, TAB, a bare CR), DEL, C1 (U+0085 as UTF-8),
# a bidi override, a line separator, and a byte that is not UTF-8 at all.
CONTROLS = [b"\x00", b"\x01", b"\x1b", b"a\tb", b"\r", b"\x7f", "\x85".encode(), "\u202e".encode(),
            "\u2028".encode(), b"\xff"]


async def _talk(port: int, commands: list[bytes]) -> list[bytes]:
    """Each command's reply line over a raw socket (aiosmtplib will not send control characters)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    replies_seen = []
    await reader.readline()  # the greeting
    for command in [b"EHLO client.test", *commands]:
        writer.write(command + b"\r\n")
        line = await reader.readline()
        while line[3:4] == b"-":  # a multi-line EHLO reply
            line = await reader.readline()
        replies_seen.append(line.rstrip(b"\r\n"))
    writer.close()
    await writer.wait_closed()
    return replies_seen[1:]


@pytest.mark.parametrize("control", CONTROLS)
async def test_control_character_in_mail_from_gets_501(intake, control):
    """MAIL FROM with a NUL or any control character is refused with 501 5.1.7; the session goes on."""
    sent = [b"MAIL FROM:<ann" + control + b"@example.org>", b"MAIL FROM:<ann@example.org>"]
    refused, taken = await _talk(intake, sent)
    assert refused.decode() == replies.S501_BAD_SENDER and taken.startswith(b"250")


@pytest.mark.parametrize("control", CONTROLS)
async def test_control_character_in_rcpt_to_gets_501(intake, control):
    """RCPT TO with a NUL or any control character, even around a real list address, gets 501 5.1.3."""
    paths = [b"team" + control + b"@example.org", b"team@example.org" + control]
    found = await _talk(intake, [b"MAIL FROM:<ann@example.org>", *(b"RCPT TO:<" + p + b">" for p in paths),
                                 b"RCPT TO:<team@example.org>"])
    assert [line.decode() for line in found[1:3]] == [replies.S501_BAD_ADDRESS] * 2 and found[3].startswith(b"250")


async def test_the_helo_name_is_recorded_with_the_envelope(intake, store):
    """The EHLO name a client gives is kept with the inbound row (SPF checks it when MAIL FROM is null)."""
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=intake, start_tls=False, local_hostname="mta.firm.example")
    async with smtp:
        await smtp.sendmail("", ["team@example.org"], POST)
    row = await inbound.get(store.db, 1)
    assert row["helo"] == "mta.firm.example" and row["mail_from"] == "<>" and row["peer"].startswith("127.0.0.1:")


async def test_data_before_any_accepted_recipient_gets_503(intake):
    """DATA with no recipient accepted yet is refused with 503 5.5.1; the session goes on."""
    smtp = await client(intake)
    response = await smtp.execute_command(b"DATA")
    assert (response.code, response.message) == (503, replies.S503_NEED_RCPT[4:])
    assert (await _rcpt(smtp, "team@example.org"))[0] == 250
    await smtp.quit()


async def test_data_with_an_argument_gets_501_and_nothing_is_queued(intake, store):
    """DATA takes no argument: "DATA x" gets 501 5.5.4 and the transaction is not started."""
    smtp = await client(intake)
    await _rcpt(smtp, "team@example.org")
    response = await smtp.execute_command(b"DATA", b"x")
    assert (response.code, response.message) == (501, replies.S501_DATA_SYNTAX[4:])
    assert await inbound.count_pending(store.db) == 0
    await smtp.quit()


async def test_data_is_invited_with_354(intake):
    """After an accepted RCPT, DATA is answered with the 354 of replies.py."""
    smtp = await client(intake)
    await _rcpt(smtp, "team@example.org")
    response = await smtp.execute_command(b"DATA")
    assert (response.code, response.message) == (354, replies.S354_START_DATA[4:])
    smtp.close()
