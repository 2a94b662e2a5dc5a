"""XVERP: a smarthost offering it gets a VERP'd batch as one transaction; one that does not, as before."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from listserv import verp
from listserv.config import DeliverySettings
from listserv.delivery.smtp import SmtpTransport
from tests.conftest import Sink, running

BOUNCES = "team-bounces@example.org"
PEOPLE = ["ann@example.org", "bob@example.org", "cy@example.org"]
CONTENT = b"From: ann@example.org\r\nSubject: s\r\n\r\nbody\r\n"


class XverpSMTP(SMTP):
    """aiosmtpd speaking like Postfix to an authorized VERP client: XVERP offered, MAIL ... XVERP=+= taken."""

    async def smtp_MAIL(self, arg: str) -> None:
        head, _, option = (arg or "").rpartition(" ")
        self.xverp = option.upper() in ("XVERP", "XVERP=+=")
        await super().smtp_MAIL(head if self.xverp else arg)


class XverpSink(Sink):
    """The recording sink; each transaction also records whether its MAIL carried XVERP."""

    def __init__(self) -> None:
        super().__init__()
        self.xverp: list[bool] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses[:-1] + ["250-XVERP", responses[-1]]

    async def handle_DATA(self, server, session, envelope):
        self.xverp.append(server.xverp)
        return await super().handle_DATA(server, session, envelope)


class XverpController(Controller):
    def factory(self):
        return XverpSMTP(self.handler, **self.SMTP_kwargs)


@pytest.fixture
def xverp_sink():
    with running(XverpSink(), XverpController) as handler:
        yield handler


async def _send(sink, **flags) -> dict:
    transport = SmtpTransport("127.0.0.1", sink.port, DeliverySettings(connections=1, timeout=5))
    try:
        return await transport.send(BOUNCES, PEOPLE, CONTENT, **flags)
    finally:
        await transport.close()


@pytest.mark.parametrize("flags", [{"verp": True}, {"xverp": True}])
async def test_offered_xverp_sends_the_batch_in_one_transaction(xverp_sink, flags):
    """XVERP in EHLO: one MAIL FROM:<NAME-bounces@> XVERP=+= with every recipient, one DATA; all delivered."""
    results = await _send(xverp_sink, **flags)
    assert {r: code for r, (code, _) in results.items()} == {r: 250 for r in PEOPLE}
    assert [(frm, rcpts) for frm, rcpts, _ in xverp_sink.received] == [(BOUNCES, PEOPLE)]
    assert xverp_sink.xverp == [True]


async def test_a_refused_recipient_in_an_xverp_batch_gets_its_own_answer(xverp_sink):
    """One 550 at RCPT in the XVERP transaction answers that recipient; the others are delivered in it."""
    xverp_sink.fail_rcpt["bob@example.org"] = "550 5.1.1 no such mailbox"
    results = await _send(xverp_sink, verp=True)
    assert results["bob@example.org"][0] == 550
    assert [rcpts for _, rcpts, _ in xverp_sink.received] == [["ann@example.org", "cy@example.org"]]


async def test_without_xverp_verp_is_one_transaction_each_and_xverp_alone_is_a_plain_batch(sink):
    """No XVERP in EHLO: verp=True sends a transaction per recipient; xverp=True one plain batch."""
    await _send(sink, verp=True)
    assert [(frm, rcpts) for frm, rcpts, _ in sink.received] == [(verp.encode(BOUNCES, r), [r]) for r in PEOPLE]
    sink.received.clear()
    await _send(sink, xverp=True)
    assert [(frm, rcpts) for frm, rcpts, _ in sink.received] == [(BOUNCES, PEOPLE)]


async def test_every_post_is_marked_for_xverp_while_verp_is_on(store, settings):
    """The second post of the day is batched (verp interval) but still marked xverp; with verp off, neither."""
    from listserv import lists
    from tests.bounces.helpers import LIST, make_team, post, queued, submit

    await make_team(store)
    await submit(store, settings, post(message_id="p1@example.org"))
    await submit(store, settings, post(message_id="p2@example.org"))
    await lists.set_setting(store, LIST, "verp", "off")
    await submit(store, settings, post(message_id="p3@example.org"))
    marks = {}
    for row in await queued(store):
        if row["archive_id"] is not None:
            marks[row["archive_id"]] = (row["verp"], row["xverp"])
    assert [marks[key] for key in sorted(marks)] == [(True, True), (False, True), (False, False)]
