"""The delivery worker over a real SQLite queue and a real aiosmtpd smarthost: every try is settled right."""

from __future__ import annotations

import asyncio
import email
import logging

from listserv.delivery import TransportError
from listserv.delivery.maildir import MaildirTransport
from listserv.delivery.worker import DeliveryWorker
from listserv.errors import StoreError
from listserv.store import Store
from listserv.store import outbound
from listserv.store.connection import connect
from tests.conftest import free_port
from tests.delivery.helpers import BOUNCES, POST, addresses, delivery, queue_rows, to_sink


async def test_every_recipient_of_a_multi_batch_post_gets_one_copy(store, settings, watching, queue_post, make_worker):
    """230 recipients in batches of 50: five transactions of at most 50 RCPTs, each member once, queue empty."""
    members = addresses(230)
    await queue_post(members, batch_size=50)
    worker = make_worker(to_sink(settings, watching, max_recipients=50))
    await worker.drain()
    assert sorted(watching.recipients()) == members
    assert watching.transactions == 5
    assert all(len(rcpts) <= 50 for _, rcpts, _ in watching.received)
    assert {mail_from for mail_from, _, _ in watching.received} == {BOUNCES}
    assert all(content == POST for _, _, content in watching.received)
    assert await queue_rows(store) == []
    assert await outbound.content(store.db, 1) is None  # the message went with its last batch


async def test_batches_go_out_concurrently_over_reused_connections(settings, watching, queue_post, make_worker):
    """Eight batches with 4 connections: four DATAs in progress at once, over no more than four connections."""
    watching.data_delay = 0.15
    await queue_post(addresses(80), batch_size=10)
    worker = make_worker(to_sink(settings, watching, connections=4))
    await worker.drain()
    assert len(watching.recipients()) == 80
    assert watching.max_active == 4
    assert len(watching.peers) <= 4


async def test_451_delays_then_delivers(store, settings, watching, queue_post, make_worker, clock):
    """DATA answered 451: the batch stays with attempts 1 and last_error until retry_schedule[0] passed, then goes."""
    watching.tempfail_data = 1
    await queue_post(["ann@example.org", "bob@example.org"])
    worker = make_worker(to_sink(settings, watching), clock=clock)
    await worker.drain()
    (row,) = await queue_rows(store)
    assert row["attempts"] == 1 and row["recipients"] == 2
    assert row["last_error"] == "451 4.3.0 sink says try again later (2 recipients waiting)"
    assert abs(row["next_attempt_at"] - (clock() + 1)) < 0.5
    await worker.drain()  # not due yet: nothing happens
    assert watching.transactions == 1
    clock.advance(1.5)
    await worker.drain()
    assert sorted(watching.recipients()) == ["ann@example.org", "bob@example.org"]
    assert await queue_rows(store) == []
    assert await outbound.failures(store.db) == []


async def test_retries_follow_the_schedule_and_its_last_value_repeats(store, settings, watching, queue_post, make_worker, clock):
    """After tries 1, 2, 3, 4 the waits are 1, 1, 2, 2 seconds (retry_schedule (1, 1, 2))."""
    watching.tempfail_data = 100
    await queue_post(["ann@example.org"])
    worker = make_worker(to_sink(settings, watching), clock=clock)
    waits = []
    for _ in range(4):
        await worker.drain()
        (row,) = await queue_rows(store)
        waits.append(row["next_attempt_at"] - clock())
        clock.advance(waits[-1] + 0.01)
    assert [round(wait, 1) for wait in waits] == [1, 1, 2, 2]


async def test_550_for_one_recipient_is_recorded_and_the_others_delivered(store, settings, watching, queue_post, list_id, make_worker):
    """One RCPT refused with 550: a delivery_failures row for it, the post for the rest, nothing left queued."""
    watching.fail_rcpt["gone@example.org"] = "550 5.1.1 no such mailbox"
    message_id = await queue_post(["ann@example.org", "gone@example.org", "bob@example.org"])
    await make_worker(to_sink(settings, watching)).drain()
    assert sorted(watching.recipients()) == ["ann@example.org", "bob@example.org"]
    (failure,) = await outbound.failures(store.db, list_id)
    assert failure["address"] == "gone@example.org"
    assert (failure["code"], failure["error"]) == (550, "5.1.1 no such mailbox")
    assert failure["outbound_message_id"] == message_id
    assert await queue_rows(store) == []


async def test_connection_refused_keeps_the_batch_queued_with_last_error(store, settings, queue_post, make_worker):
    """Nothing listening at the smarthost: a temporary failure, the batch stays with last_error, nothing recorded."""
    port = free_port()
    await queue_post(["ann@example.org", "bob@example.org"])
    await make_worker(delivery(settings, transport=f"smtp://127.0.0.1:{port}")).drain()
    (row,) = await queue_rows(store)
    assert row["attempts"] == 1 and row["recipients"] == 2
    assert f"cannot connect to smarthost 127.0.0.1:{port}" in row["last_error"]
    assert await outbound.failures(store.db) == []


async def test_give_up_after_turns_waiting_recipients_into_failures(store, settings, watching, queue_post, make_worker, clock):
    """A batch older than give_up_after that fails again gives its recipients up with the last code."""
    watching.tempfail_data = 100
    watching.fail_rcpt["gone@example.org"] = "550 5.1.1 no such mailbox"
    await queue_post(["ann@example.org", "gone@example.org"])
    clock.advance(3601)
    await make_worker(to_sink(settings, watching, give_up_after=3600), clock=clock).drain()
    failures = {f["address"]: f for f in await outbound.failures(store.db)}
    assert failures["ann@example.org"]["code"] == 451
    assert failures["ann@example.org"]["error"].startswith("gave up after 3600s; last: 4.3.0 sink says try again")
    assert failures["gone@example.org"]["code"] == 550
    assert await queue_rows(store) == []


async def test_giving_up_without_any_reply_records_code_0(store, settings, queue_post, make_worker, clock):
    """A smarthost that never answered: the given-up recipients get code 0 and the reason."""
    await queue_post(["ann@example.org"])
    clock.advance(10)
    worker = make_worker(delivery(settings, transport=f"smtp://127.0.0.1:{free_port()}", give_up_after=5), clock=clock)
    await worker.drain()
    (failure,) = await outbound.failures(store.db)
    assert failure["code"] == 0 and "cannot connect to smarthost" in failure["error"]
    assert await queue_rows(store) == []


async def test_the_last_retry_lands_on_the_give_up_time(store, settings, watching, queue_post, make_worker, clock):
    """A retry that would fall after give_up_after is moved to it, so the last try happens on time."""
    watching.tempfail_data = 100
    await queue_post(["ann@example.org"])
    await make_worker(to_sink(settings, watching, retry_schedule=(600,), give_up_after=30), clock=clock).drain()
    (row,) = await queue_rows(store)
    assert 29 <= row["next_attempt_at"] - clock() <= 30  # created_at + 30, not now + 600


async def test_maildir_worker_writes_one_file_per_recipient(settings, tmp_path, queue_post, make_worker):
    """With the default development transport every recipient's copy is a file in outbox/new."""
    await queue_post(["ann@example.org", "bob@example.org"])
    await make_worker(settings).drain()
    copies = [email.message_from_bytes(path.read_bytes()) for path in (tmp_path / "outbox" / "new").iterdir()]
    assert sorted(copy["Delivered-To"] for copy in copies) == ["ann@example.org", "bob@example.org"]
    assert {copy["X-Listserv-Envelope-From"] for copy in copies} == {BOUNCES}


async def test_run_picks_up_work_queued_by_another_process(settings, watching, queue_post, make_worker):
    """Rows committed through another connection (as `held approve` does) are found by polling, no wake()."""
    worker = make_worker(to_sink(settings, watching, poll_interval=0.1))
    running = asyncio.create_task(worker.run())
    other = await Store.open(settings.storage.database)
    try:
        await queue_post(["ann@example.org"], into=other)
        await watching.wait_for(lambda: watching.recipients() == ["ann@example.org"], timeout=3)
    finally:
        await other.close()
        await worker.stop()
    await asyncio.wait_for(running, 1)


async def test_wake_looks_at_the_queue_at_once(settings, watching, queue_post, make_worker):
    """With a 30 s poll interval, wake() after queueing gets the post out within a second."""
    worker = make_worker(to_sink(settings, watching, poll_interval=30))
    running = asyncio.create_task(worker.run())
    await asyncio.sleep(0.05)
    await queue_post(["ann@example.org"])
    worker.wake()
    await watching.wait_for(lambda: watching.recipients() == ["ann@example.org"], timeout=1)
    await worker.stop()
    await asyncio.wait_for(running, 1)


async def test_stop_lets_a_batch_in_flight_finish(store, settings, watching, queue_post, make_worker):
    """stop() during a slow DATA waits for it: the copy is delivered and settled, the queue is empty."""
    watching.data_delay = 0.4
    await queue_post(["ann@example.org"])
    worker = make_worker(to_sink(settings, watching))
    running = asyncio.create_task(worker.run())
    await asyncio.to_thread(watching.data_started.wait, 3)
    await worker.stop(grace=3)
    await asyncio.wait_for(running, 1)
    assert watching.recipients() == ["ann@example.org"]
    assert await queue_rows(store) == []


async def test_stop_cutting_a_try_short_leaves_the_batch_queued(store, settings, watching, queue_post, make_worker):
    """stop() whose grace ends during DATA cancels the try: the batch stays exactly as queued, due again."""
    watching.data_delay = 1.0
    await queue_post(["ann@example.org", "bob@example.org"])
    worker = make_worker(to_sink(settings, watching))
    running = asyncio.create_task(worker.run())
    await asyncio.to_thread(watching.data_started.wait, 3)
    await worker.stop(grace=0.1)
    await asyncio.wait_for(running, 1)
    (row,) = await queue_rows(store)
    assert row["attempts"] == 0 and row["recipients"] == 2 and row["last_error"] == ""


class FailingOnce:
    """The maildir transport, except that its first send raises a bug-like error carrying 'content'."""

    def __init__(self, path) -> None:
        self.inner = MaildirTransport(path)
        self.calls = 0

    async def send(self, mail_from, recipients, content):
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("Subject: [team] secret case details")
        return await self.inner.send(mail_from, recipients, content)

    async def close(self):
        await self.inner.close()


async def test_a_crash_in_one_try_is_logged_without_content_and_retried(store, settings, tmp_path, queue_post, make_worker, clock, caplog):
    """A try raising an unexpected error: the worker survives, logs no message text, and retries the batch."""
    await queue_post(["ann@example.org"])
    transport = FailingOnce(tmp_path / "outbox")
    worker = make_worker(settings, transport=transport, clock=clock)
    with caplog.at_level(logging.INFO, logger="listserv.delivery"):
        await worker.drain()
    (row,) = await queue_rows(store)
    assert row["last_error"] == "internal error: RuntimeError" and row["attempts"] == 1
    assert "RuntimeError" in caplog.text and "secret" not in caplog.text
    clock.advance(1)
    await worker.drain()
    assert await queue_rows(store) == []
    assert len(list((tmp_path / "outbox" / "new").iterdir())) == 1


async def test_a_batch_whose_message_vanished_is_dropped(store, settings, watching, queue_post, make_worker):
    """The message withdrawn between the look at the queue and the try: nothing is sent, no row is left."""
    message_id = await queue_post(["ann@example.org"])
    worker = make_worker(to_sink(settings, watching))
    (batch,) = await outbound.due(store.db, worker.clock())
    await store.write(outbound.withdraw, message_id)
    await worker._attempt(batch)  # the try the worker would have started for that stale row
    assert watching.transactions == 0
    assert await queue_rows(store) == []


async def test_a_message_withdrawn_during_its_try_stays_gone(store, settings, watching, queue_post, make_worker):
    """Withdrawn while its batch is being sent: settling the try does not bring any row back."""
    watching.data_delay = 0.3
    watching.tempfail_data = 1
    message_id = await queue_post(["ann@example.org"])
    worker = make_worker(to_sink(settings, watching))
    draining = asyncio.create_task(worker.drain())
    await asyncio.to_thread(watching.data_started.wait, 3)
    assert await store.write(outbound.withdraw, message_id) == 1
    await draining
    assert await queue_rows(store) == []


class FlakyWrites:
    """The real store, except that its first `failures` writes fail as a full disk would make them."""

    def __init__(self, store, failures: int) -> None:
        self.store = store
        self.db = store.db
        self.failures = failures

    async def write(self, fn, *args, **kwargs):
        if self.failures:
            self.failures -= 1
            raise StoreError("database write failed: database or disk is full")
        return await self.store.write(fn, *args, **kwargs)


async def test_a_try_the_database_cannot_record_is_retried_not_resent(store, settings, watching, queue_post, caplog):
    """Recording a try fails three times: it is recorded on the fourth, and nobody gets a second copy."""
    await queue_post(["ann@example.org", "bob@example.org"])
    flaky = FlakyWrites(store, failures=3)
    worker = DeliveryWorker(flaky, to_sink(settings, watching, poll_interval=0.02))
    try:
        with caplog.at_level(logging.ERROR, logger="listserv.delivery"):
            await worker.drain(timeout=5)
    finally:
        await worker.stop()
    assert flaky.failures == 0 and caplog.text.count("cannot record the try") == 3
    assert sorted(watching.recipients()) == ["ann@example.org", "bob@example.org"]
    assert await queue_rows(store) == []


async def test_while_tries_cannot_be_recorded_sending_stalls(store, settings, watching, queue_post):
    """One connection and a database refusing writes: two batches go out, the rest wait; none is sent twice."""
    await queue_post(addresses(5), batch_size=1)
    flaky = FlakyWrites(store, failures=10_000)
    worker = DeliveryWorker(flaky, to_sink(settings, watching, connections=1, poll_interval=0.02))
    running = asyncio.create_task(worker.run())
    try:
        await watching.wait_for(lambda: watching.transactions == 2, timeout=3)
        await asyncio.sleep(0.3)
        assert watching.transactions == 2
        flaky.failures = 0
        await watching.wait_for(lambda: watching.transactions == 5, timeout=5)
        await watching.wait_for(lambda: worker._in_flight == {}, timeout=5)
    finally:
        await worker.stop()
        await running
    assert sorted(watching.recipients()) == addresses(5)
    assert await queue_rows(store) == []


async def test_run_survives_an_unreadable_queue(store, settings, watching, queue_post, make_worker, caplog):
    """The reader connection fails: run() logs it and keeps polling; with the database back, the post goes."""
    await queue_post(["ann@example.org"])
    worker = make_worker(to_sink(settings, watching, poll_interval=0.05))
    reader = store.db
    await reader.close()
    with caplog.at_level(logging.ERROR, logger="listserv.delivery"):
        running = asyncio.create_task(worker.run())
        await asyncio.sleep(0.2)
        assert "cannot read the outbound queue" in caplog.text
        store.db = await connect(settings.storage.database)
        await watching.wait_for(lambda: watching.recipients() == ["ann@example.org"], timeout=3)
    await worker.stop()
    await asyncio.wait_for(running, 1)


async def test_a_transport_error_from_any_transport_is_a_temporary_failure(store, settings, tmp_path, queue_post, make_worker):
    """An unusable maildir (its path is a file) raises TransportError: the batch waits with the reason."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    await queue_post(["ann@example.org"])
    await make_worker(delivery(settings, transport=f"maildir:{blocker}")).drain()
    (row,) = await queue_rows(store)
    assert row["attempts"] == 1 and "cannot create maildir" in row["last_error"]


def test_transport_error_is_an_exception_with_its_reason():
    """TransportError carries a one-line reason, the text the queue shows."""
    assert str(TransportError("cannot connect to smarthost x:25: refused")) == "cannot connect to smarthost x:25: refused"
