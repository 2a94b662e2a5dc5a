"""VERP: addresses encoded and decoded, one transaction per recipient at the sink, which posts are VERP'd."""

from __future__ import annotations

import asyncio
import email

import pytest
from aiosmtpd.controller import Controller

from listserv import lists, verp
from listserv.bounces import verp_addresses
from listserv.config import DeliverySettings
from listserv.delivery.maildir import MaildirTransport
from listserv.delivery.smtp import SmtpTransport
from listserv.pipeline.to_outbound import use_verp
from tests.bounces.helpers import BOUNCES, LIST, post, queued, submit
from tests.conftest import free_port
from tests.delivery.helpers import WatchingSink

PEOPLE = ["ann@example.org", "bob@example.org", "cy@example.org"]
CONTENT = b"From: ann@example.org\r\nSubject: s\r\n\r\nbody\r\n"


def _own(address: str) -> str:
    return verp.encode(BOUNCES, address)


@pytest.mark.parametrize("recipient", [
    "ann@example.com", "ann.smith+tag@example.com", "o'brien@example.ie", "a=b@example.com", "x_y@sub.example.co.uk",
])
def test_encode_then_decode_gives_the_recipient_back(recipient):
    """Every dot-atom address survives the trip through a VERP bounces address and addresses.split()."""
    sender = verp.encode(BOUNCES, recipient)
    assert sender != BOUNCES and sender.endswith("@example.org")
    assert verp_addresses([sender]) == (recipient.casefold(),)


@pytest.mark.parametrize("recipient", ['"a b"@example.com', "zoë@example.com", "a" * 50 + "@example.com", "a..b@x.org"])
def test_unsafe_addresses_keep_the_plain_bounces_address(recipient):
    """Quoted, non-ASCII, too-long (64-octet local part) or odd addresses are not VERP'd: their bounces are parsed."""
    assert verp.encode(BOUNCES, recipient) == BOUNCES


def test_plain_and_foreign_recipients_name_nobody():
    """The plain -bounces address, a post address or a malformed suffix names no member."""
    assert verp_addresses([BOUNCES, LIST, "team-bounces+junk@example.org", "elsewhere@example.com"]) == ()


class RefusingSink(WatchingSink):
    """Refuses MAIL FROM for one envelope sender, or drops the connection at one recipient's RCPT."""

    refuse_sender = ""
    drop_at = ""
    refuse_then_drop_at = ""

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address == self.refuse_sender:
            return "451 4.3.0 sender deferred"
        return await super().handle_MAIL(server, session, envelope, address, mail_options)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.drop_at:
            server.transport.close()
            return "421 4.3.0 going away"
        if address == self.refuse_then_drop_at:  # the reply goes out, then the connection closes
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "550 5.1.1 no such mailbox"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


@pytest.fixture
def refusing():
    """A RefusingSink on a free port, stopped after the test."""
    handler = RefusingSink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port, handler.loop = controller.port, controller.loop
    yield handler
    controller.stop()


def _transport(sink) -> SmtpTransport:
    return SmtpTransport("127.0.0.1", sink.port, DeliverySettings(connections=1, timeout=5))


async def test_each_recipient_gets_its_own_envelope_on_one_connection(refusing):
    """verp=True: one transaction per recipient with its own MAIL FROM, back to back on a pooled connection."""
    transport = _transport(refusing)
    try:
        results = await transport.send(BOUNCES, PEOPLE, CONTENT, verp=True)
        await transport.send(BOUNCES, ["dee@example.org"], CONTENT, verp=True)
    finally:
        await transport.close()
    assert all(code == 250 for code, _ in results.values())
    envelopes = [(frm, rcpts) for frm, rcpts, _ in refusing.received]
    assert envelopes == [(_own(a), [a]) for a in PEOPLE + ["dee@example.org"]]
    assert len(refusing.peers) == 1


async def test_without_verp_one_transaction_carries_every_recipient(refusing):
    """verp off: batching as before, one MAIL FROM (the plain bounces address) for all."""
    transport = _transport(refusing)
    try:
        await transport.send(BOUNCES, PEOPLE, CONTENT)
    finally:
        await transport.close()
    assert [(frm, rcpts) for frm, rcpts, _ in refusing.received] == [(BOUNCES, PEOPLE)]


async def test_a_refused_recipient_does_not_stop_the_next(refusing):
    """A 550 at RCPT answers that recipient; the transaction is reset and the next recipient is served."""
    refusing.fail_rcpt["bob@example.org"] = "550 5.1.1 no such mailbox"
    transport = _transport(refusing)
    try:
        results = await transport.send(BOUNCES, PEOPLE, CONTENT, verp=True)
    finally:
        await transport.close()
    assert results["bob@example.org"][0] == 550
    assert [rcpts for _, rcpts, _ in refusing.received] == [["ann@example.org"], ["cy@example.org"]]


async def test_a_refused_sender_leaves_the_rest_waiting(refusing):
    """The smarthost refusing one VERP sender: those served stay served, that one and the rest wait (code 0)."""
    refusing.refuse_sender = _own("bob@example.org")
    transport = _transport(refusing)
    try:
        results = await transport.send(BOUNCES, PEOPLE, CONTENT, verp=True)
    finally:
        await transport.close()
    assert results["ann@example.org"][0] == 250
    assert results["bob@example.org"][0] == results["cy@example.org"][0] == 0
    assert "451" in results["bob@example.org"][1]


async def test_a_lost_connection_leaves_the_rest_waiting_and_the_pool_recovers(refusing):
    """The connection dropping midway: the rest wait; the next send opens a fresh connection and works."""
    refusing.drop_at = "bob@example.org"
    transport = _transport(refusing)
    try:
        results = await transport.send(BOUNCES, PEOPLE, CONTENT, verp=True)
        refusing.drop_at = ""
        again = await transport.send(BOUNCES, ["bob@example.org", "cy@example.org"], CONTENT, verp=True)
    finally:
        await transport.close()
    assert results["ann@example.org"][0] == 250
    assert results["bob@example.org"][0] == results["cy@example.org"][0] == 0
    assert all(code == 250 for code, _ in again.values())


async def test_a_connection_lost_after_a_refusal_leaves_the_rest_waiting(refusing):
    """A refused recipient keeps its 550; when the reset after it finds the connection gone, the rest wait."""
    refusing.refuse_then_drop_at = "bob@example.org"
    transport = _transport(refusing)
    try:
        results = await transport.send(BOUNCES, PEOPLE, CONTENT, verp=True)
    finally:
        await transport.close()
    assert [results[a][0] for a in PEOPLE] == [250, 550, 0]
    assert "lost" in results["cy@example.org"][1]


async def test_maildir_writes_each_copy_with_its_own_envelope_sender(tmp_path):
    """The maildir transport records the recipient's own VERP sender in X-Listserv-Envelope-From."""
    transport = MaildirTransport(tmp_path / "box")
    await transport.send(BOUNCES, PEOPLE[:2], CONTENT, verp=True)
    copies = [email.message_from_bytes(p.read_bytes()) for p in (tmp_path / "box" / "new").iterdir()]
    assert sorted((c["Delivered-To"], c["X-Listserv-Envelope-From"]) for c in copies) == [
        (a, _own(a)) for a in PEOPLE[:2]
    ]


async def test_one_verp_post_per_interval(store, settings, team):
    """With verp on (default 24 h), the first post is VERP'd and the next one that day is batched."""
    await submit(store, settings, post(message_id="one@example.org"))
    await submit(store, settings, post(message_id="two@example.org"))
    flags = {q["message"]["Message-ID"]: q["verp"] for q in await queued(store)}
    assert flags == {"<one@example.org>": True, "<two@example.org>": False}


@pytest.mark.parametrize("verp_on, interval, expected", [("on", "0", [True, True]), ("off", "24", [False, False])])
async def test_interval_zero_verps_every_post_and_off_none(store, settings, team, verp_on, interval, expected):
    """verp_interval_hours 0 VERPs every post; verp off VERPs none."""
    await lists.set_setting(store, LIST, "verp", verp_on)
    await lists.set_setting(store, LIST, "verp_interval_hours", interval)
    for n in range(2):
        await submit(store, settings, post(message_id=f"p{n}@example.org"))
    assert [q["verp"] for q in sorted(await queued(store), key=lambda q: q["outbound_message_id"])] == expected


async def test_the_interval_runs_from_the_last_verp_post(store, team):
    """use_verp: once per interval; after it passes the next post is VERP'd again."""
    assert [await store.write(use_verp, team, now) for now in (1000.0, 1000.0 + 3600, 1000.0 + 86400)] == [
        True, False, True,
    ]
