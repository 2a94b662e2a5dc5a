"""Refusals for policy reasons (DMARC, authentication, 5.7.x) never count against members; counted per author domain."""

from __future__ import annotations

import asyncio

import pytest

from listserv import lists, policy_bounces
from listserv.daemon import Daemon
from listserv.store import audit, members, outbound, policy_refusals
from tests.bounces.conftest import manifest, sample
from tests.bounces.helpers import LIST, parsed, submit
from tests.e2e.helpers import make_list, message, send

VERP_BOB = "team-bounces+bob=example.org@example.org"
NOW = 1_800_000_000.0  # 2027-01-15 08:00 UTC


def dsn(status: str, diagnostic: str, recipient: str = "bob@example.org", author: str = "ann@gov.example",
        subject: str = "Client's sentencing date") -> bytes:
    """A DSN as Postfix writes one (RFC 3464), returning the post's headers."""
    return f"""From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: team-bounces@example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

The mail system could not deliver your message.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822; {recipient}
Action: failed
Status: {status}
Diagnostic-Code: smtp; {diagnostic}

--B
Content-Type: text/rfc822-headers

From: Ann Lee <{author}>
To: {LIST}
Subject: {subject}

--B--
""".encode()


POLICY_REPLIES = [
    ("5.7.26", "550 5.7.26 Unauthenticated email from gov.example is not accepted due to domain's DMARC policy"),
    ("5.7.509", "550 5.7.509 Access denied, sending domain gov.example does not pass DMARC verification"),
    ("5.7.515", "550 5.7.515 Access denied, sending domain does not meet the required authentication level"),
    ("5.7.1", "550 5.7.1 Email rejected per DMARC policy for gov.example"),
    ("5.0.0", "550 5.0.0 Message refused: sender not authenticated"),
]


async def _score(store, mlist, address: str) -> float:
    return (await members.get(store.db, mlist.id, address)).bounce_score


@pytest.mark.parametrize("name", sorted(manifest()))
def test_no_corpus_bounce_is_read_as_a_policy_refusal(name):
    """None of the real bounces of the corpus (user unknown, mailbox full...) is taken for a policy refusal."""
    policy, _ = policy_bounces.dsn_refusals(sample(name))
    assert policy == {}


def test_corpus_dsn_failures_stay_ordinary_failures():
    """The corpus' RFC 3464 reports with a 5.x.x Status (not 5.7) are read as ordinary failures, address by address."""
    found = {name: policy_bounces.dsn_refusals(sample(name))[1] for name in ("dsn_04.txt", "dsn_10.txt")}
    assert all(found.values()), found


@pytest.mark.parametrize("status,diagnostic", POLICY_REPLIES)
async def test_a_policy_dsn_does_not_raise_the_score(store, settings, team, status, diagnostic):
    """A DSN to bob's VERP address refusing for DMARC/authentication leaves bob's score at 0, counts gov.example."""
    outcome = await submit(store, settings, dsn(status, diagnostic), rcpts=(VERP_BOB,), mail_from="")
    assert outcome == {VERP_BOB: "recorded"}
    assert await _score(store, team, "bob@example.org") == 0.0
    rows = await policy_refusals.for_list(store.db, team.id)
    assert [(r["author_domain"], r["refusals"]) for r in rows] == [("gov.example", 1)]
    assert "bob@example.org" not in rows[0]["example"]
    entry = (await audit.entries(store.db, team.id, action="policy-refusal"))[0]
    assert entry["object"] == "domain:gov.example"


async def test_an_address_dsn_still_raises_the_score(store, settings, team):
    """The same DSN with 5.1.1 user unknown counts for bob as before, and no policy refusal is recorded."""
    outcome = await submit(store, settings, dsn("5.1.1", "550 5.1.1 user unknown"), rcpts=(VERP_BOB,), mail_from="")
    assert outcome == {VERP_BOB: "recorded"}
    assert await _score(store, team, "bob@example.org") == 1.0
    assert await policy_refusals.for_list(store.db, team.id) == []


async def test_a_mixed_dsn_counts_only_the_address_failure(store, settings, team):
    """A report to the plain bounces address with bob refused for DMARC and dee unknown: only dee's score rises."""
    raw = dsn("5.7.26", "550 5.7.26 DMARC").replace(
        b"\n--B\nContent-Type: text/rfc822-headers",
        b"Final-Recipient: rfc822; dee@example.org\nAction: failed\nStatus: 5.1.1\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 user unknown\n\n--B\nContent-Type: text/rfc822-headers", 1)
    raw = raw.replace(b"Diagnostic-Code: smtp; 550 5.7.26 DMARC\n", b"Diagnostic-Code: smtp; 550 5.7.26 DMARC\n\n", 1)
    await submit(store, settings, raw, rcpts=("team-bounces@example.org",), mail_from="")
    assert await _score(store, team, "bob@example.org") == 0.0
    assert await _score(store, team, "dee@example.org") == 1.0
    assert [r["refusals"] for r in await policy_refusals.for_list(store.db, team.id)] == [1]


async def _unreported_report(store, settings, now: float) -> list[bytes]:
    await policy_bounces.report_due(store, settings, now)
    found = []
    for batch in await outbound.due(store.db, now=1e12, exclude=[-1]):
        found.append(await outbound.content(store.db, batch["outbound_message_id"]))
    return found


async def test_owners_get_one_report_a_day_without_subjects(store, settings, team):
    """Refusals give the owners one report (domains and counts, no subject, no member); none again within a day."""
    await submit(store, settings, dsn("5.7.26", "550 5.7.26 DMARC", subject="[CONFIDENTIAL] Smith plea"),
                 rcpts=(VERP_BOB,), mail_from="")
    first = await _unreported_report(store, settings, NOW)
    assert len(first) == 1
    note = parsed(first[0])
    assert note["Subject"] == f"{LIST}: copies refused for policy reasons"
    text = note.get_content()
    assert "gov.example" in text and "Smith" not in text and "bob@example.org" not in text
    await submit(store, settings, dsn("5.7.26", "550 5.7.26 DMARC", author="cy@firm.example"),
                 rcpts=(VERP_BOB,), mail_from="")
    assert len(await _unreported_report(store, settings, NOW + 3600)) == 1  # still only the first
    later = await _unreported_report(store, settings, NOW + 86400)
    assert len(later) == 2 and "firm.example" in parsed(later[1]).get_content()


async def test_no_report_when_nothing_was_refused(store, settings, team):
    """Without policy refusals the daily job queues nothing."""
    assert await policy_bounces.report_due(store, settings, NOW) == 0


@pytest.fixture
async def quick_server(smtp_settings):
    """The real daemon delivering to the sink, its periodic jobs (failure counting) ticking every 0.1 s."""
    daemon = Daemon(smtp_settings, tick=0.1)
    await daemon.start()
    yield daemon
    await daemon.stop()


async def test_delivery_time_5_7_26_does_not_raise_the_score(quick_server, sink, cli):
    """The smarthost answering 550 5.7.26 for bob: bob's score stays 0, the author domain is counted; 5.1.1 counts."""
    await make_list(cli)
    sink.fail_rcpt["bob@example.org"] = "550 5.7.26 Unauthenticated email is not accepted due to DMARC policy"
    sink.fail_rcpt["cy@example.org"] = "550 5.1.1 user unknown"
    await send(quick_server.port, message("ann@example.org", "Hearing"), "ann@example.org")
    await sink.wait_for(lambda: sink.copies_for("ann@example.org"))
    mlist = await lists.get(quick_server.store, LIST)

    async def settled() -> bool:
        cy = await members.get(quick_server.store.db, mlist.id, "cy@example.org")
        return cy.bounce_score > 0 and bool(await policy_refusals.for_list(quick_server.store.db, mlist.id))

    for _ in range(200):
        if await settled():
            break
        await asyncio.sleep(0.05)
    assert await _score(quick_server.store, mlist, "cy@example.org") == 1.0
    assert await _score(quick_server.store, mlist, "bob@example.org") == 0.0
    rows = await policy_refusals.for_list(quick_server.store.db, mlist.id)
    assert [(r["author_domain"], r["refusals"]) for r in rows] == [("example.org", 1)]
    assert rows[0]["example"].startswith("550 5.7.26") and "bob@" not in rows[0]["example"]
