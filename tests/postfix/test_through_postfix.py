"""listserv behind a real Postfix: posts in over SMTP and LMTP, copies out through Postfix with XVERP, real DSNs back."""

from __future__ import annotations

import asyncio
import os
import re

from listserv import lists
from listserv.store import members, policy_refusals
from tests.conftest import free_port
from tests.e2e.helpers import LIST, MEMBERS, message, parsed, send
from tests.postfix.instance import Postfix



def verp_of(address: str) -> str:
    return "team-bounces+" + address.replace("@", "=") + "@example.org"


async def _until(predicate, what: str, timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


async def _score(front, address: str) -> float:
    mlist = await lists.get(front.daemon.store, LIST)
    return (await members.get(front.daemon.store.db, mlist.id, address)).bounce_score


async def _copies(sink, front, count: int) -> None:
    async def arrived() -> bool:
        return len(set(sink.recipients())) >= count
    await _until(arrived, f"{count} copies at the sink; Postfix log:\n{front.postfix.log()[-3000:]}")


async def test_a_post_reaches_every_member_through_postfix(front, sink):
    """A member's post sent to Postfix goes to listserv over LMTP and reaches every member through Postfix."""
    await send(front.port, message("ann@example.org", "Mitigation expert in Ohio?"), "ann@example.org")
    await _copies(sink, front, len(MEMBERS))
    assert set(sink.recipients()) >= set(MEMBERS)
    for address in MEMBERS:
        copy = parsed(sink.copies_for(address)[0])
        assert copy["From"].addresses[0].addr_spec == "ann@example.org"
        assert "Mitigation expert in Ohio?" in copy["Subject"]
    log = front.postfix.log()
    assert re.search(r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+.*status=sent \(250 2\.0\.0", log)  # LMTP to listserv


async def test_postfix_xverp_one_transaction_per_batch(front, sink):
    """listserv hands the batch to Postfix in one transaction with XVERP; Postfix gives each copy its VERP sender."""
    await send(front.port, message("ann@example.org", "Expert witness fees"), "ann@example.org")
    await _copies(sink, front, len(MEMBERS))
    senders = {rcpts[0]: frm for frm, rcpts, _ in sink.received}
    assert all(senders[address] == verp_of(address) for address in MEMBERS), senders
    log = front.postfix.log()
    # Postfix's queue manager saw the copy once, from the plain bounces address, with every recipient on it:
    # listserv sent one MAIL FROM:<team-bounces@example.org> XVERP=+= with one RCPT per member.
    batched = re.findall(r"from=<team-bounces(\S*)@example\.org>, size=\d+, nrcpt=(\d+)", log)
    assert batched == [("", str(len(MEMBERS)))], log[-3000:]


async def test_a_550_from_the_sink_comes_back_as_a_dsn_and_raises_the_score(front, sink):
    """The sink refusing bob with 550 5.1.1: Postfix mails a real DSN to bob's VERP address and bob's score rises."""
    sink.fail_rcpt["bob@example.org"] = "550 5.1.1 <bob@example.org>: no such user"
    await send(front.port, message("ann@example.org", "Jail call logs"), "ann@example.org")

    async def counted() -> bool:
        return await _score(front, "bob@example.org") > 0

    await _until(counted, f"bob's bounce counted; Postfix log:\n{front.postfix.log()[-3000:]}")
    assert await _score(front, "bob@example.org") == 1.0
    assert await _score(front, "cy@example.org") == 0.0
    assert re.search(r"to=<" + re.escape(verp_of("bob@example.org")) + r">.*status=sent", front.postfix.log())


async def test_a_5_7_26_refusal_does_not_raise_the_score(front, sink):
    """The sink refusing bob with 550 5.7.26 (DMARC): Postfix's DSN reaches listserv, bob's score stays 0."""
    sink.fail_rcpt["bob@example.org"] = "550 5.7.26 Unauthenticated email is not accepted due to DMARC policy"
    await send(front.port, message("ann@example.org", "Sentencing memo template"), "ann@example.org")
    mlist = await lists.get(front.daemon.store, LIST)

    async def recorded() -> bool:
        return bool(await policy_refusals.for_list(front.daemon.store.db, mlist.id))

    await _until(recorded, f"the policy refusal recorded; Postfix log:\n{front.postfix.log()[-3000:]}")
    rows = await policy_refusals.for_list(front.daemon.store.db, mlist.id)
    assert [(r["author_domain"], r["refusals"]) for r in rows] == [("example.org", 1)]
    assert await _score(front, "bob@example.org") == 0.0


def test_no_postfix_process_is_left_after_stop(sink):
    """Starting and stopping an instance leaves no process of it, not even a zombie entry."""
    instance = Postfix(free_port(), sink.port)
    try:
        instance.conf.mkdir()
        for name in ("listserv_domains", "listserv_transport"):
            (instance.conf / name).write_text("")
        instance.start()
        started = instance.processes()
        assert started
    finally:
        instance.stop()
    assert instance.processes() == []
    assert [pid for pid in started if os.path.exists(f"/proc/{pid}")] == []
