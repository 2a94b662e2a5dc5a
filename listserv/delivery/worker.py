"""The delivery worker: takes due batches off the outbound queue, sends them, and settles every try.

At most `connections` batches are being sent at once. Which batches are in
flight is kept in memory only: after a crash every row is simply due again, so
delivery is at-least-once per recipient (a copy may go twice, never zero
times). Each try is settled in one transaction: recipients that got 2xx leave
the batch; 5xx failures are recorded in delivery_failures and leave it; the
rest wait until now + retry_schedule[attempts] (the last value repeats), and
fail for good once the batch is older than give_up_after.

A message queued `personal` (listserv.outgoing.personal: one-click
unsubscribe) is prepared once and each of its copies gets its member's
headers and signature on top, one transaction per member (VERP'd).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import sqlite3
import time
import traceback
from dataclasses import dataclass, replace
from typing import Callable

import aiosqlite

from listserv import one_click, policy_bounces
from listserv.config import DeliverySettings, Settings
from listserv.delivery import Personal, Results, Transport, TransportError, transport_from_url
from listserv.errors import StoreError
from listserv.outgoing import personal
from listserv.wording import plural
from listserv.store import Store
from listserv.store import outbound

log = logging.getLogger(__name__)
STOP_GRACE = 10.0  # seconds stop() lets tries in flight finish; cut-short ones stay queued
MIN_PAUSE = 0.05  # floor of the poll pause, so poll_interval = 0 cannot spin the loop
RECORD_RETRY_MAX = 30.0  # longest pause between attempts to record a try the database refused
NO_REPLY = (0, "the transport gave no reply for this recipient")
PREPARED_KEPT = 8  # messages whose per-post signing work is kept (batches of one post come one after another)
ADDRESS = re.compile(r"<?[^\s<>@\"']+@[^\s<>@\"']+>?")  # an address in a reply text, with its brackets


@dataclass(frozen=True)
class Outcome:
    """What one try decided for one batch; applied in a single transaction."""

    delivered: int  # recipients that got a 2xx reply
    failures: list[tuple[str, int, str]]  # permanent: (address, code, text), recorded then dropped
    remaining: list[str]  # temporary: kept in the batch for the next try
    next_attempt_at: float  # when the remaining recipients are tried again
    last_error: str  # the reply they are waiting on, for `queue ls`
    policy: tuple[str, int, str, float] | None = None  # refused for policy: (author domain, copies, first reply, when)


DROPPED = Outcome(0, [], [], 0.0, "")  # the batch's message was withdrawn: delete the batch


class DeliveryWorker:
    """Delivers the outbound queue through one transport; the daemon runs run() as a task."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        transport: Transport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.whole = settings  # base_url and the keys, for copies personalised per recipient
        self.settings = settings.delivery
        self.transport = transport if transport is not None else transport_from_url(self.settings.transport, self.settings)
        self.clock = clock
        self._in_flight: dict[int, asyncio.Task] = {}  # batch id -> its try, until settled
        self._sending: set[int] = set()  # the subset still talking to the transport
        self._wakeup = asyncio.Event()
        self._taking = asyncio.Lock()  # one look at the queue at a time, so no batch starts twice
        self._stopping = False
        # The last few personalised messages, prepared once: outbound message id -> (its bytes, prepared).
        self._prepared: dict[int, tuple[bytes, personal.Prepared]] = {}
        self._secret: bytes | None = None  # the one-click token secret, read on first need

    async def run(self) -> None:
        """Deliver until stop(): look at the queue at once on wake(), else every poll_interval."""
        log.info("delivery started: %s, up to %s at once", type(self.transport).__name__, plural(self._width, "batch"))
        while not self._stopping:
            self._wakeup.clear()
            try:
                await self._take_due()
            except Exception as exc:  # noqa: BLE001 - the worker must outlive a bad moment of the database
                log.error("cannot read the outbound queue (will look again): %s", _describe(exc))
            await self._pause()

    def wake(self) -> None:
        """New rows were queued in this process: look now rather than at the next poll."""
        self._wakeup.set()

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Take no new batches, give the tries in flight `grace` seconds, then close the transport.

        A try still running after that is cancelled before it is settled, so
        its batch stays queued exactly as it was and is sent again later.
        """
        self._stopping = True
        self._wakeup.set()
        tasks = list(self._in_flight.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                log.warning("stopping: %d batch tries cut short; they stay queued", len(late))
                await asyncio.gather(*late, return_exceptions=True)
        await self.transport.close()

    async def drain(self, timeout: float = 10.0) -> None:
        """Deliver until nothing is due now and nothing is in flight, or timeout seconds passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self._take_due()
            if not self._in_flight:
                return
            left = deadline - loop.time()
            if left <= 0:
                log.warning("drain: %d batch tries still running after %.1fs", len(self._in_flight), timeout)
                return
            await asyncio.wait(list(self._in_flight.values()), timeout=left, return_when=asyncio.FIRST_COMPLETED)

    @property
    def _width(self) -> int:
        return max(1, self.settings.connections)

    async def _pause(self) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=max(self.settings.poll_interval, MIN_PAUSE))

    async def _take_due(self) -> None:
        """Start a try for each due batch that is not in flight, while fewer than `connections` are sending."""
        async with self._taking:
            # Tries whose outcome the database has not taken yet count too (up to a
            # second round): if recording stalls, sending stalls instead of piling up.
            room = min(self._width - len(self._sending), 2 * self._width - len(self._in_flight))
            if room <= 0 or self._stopping:
                return
            due = await outbound.due(self.store.db, self.clock(), exclude=list(self._in_flight), limit=room)
            for batch in due:
                if self._stopping:
                    return
                self._start(batch)

    def _start(self, batch: dict) -> None:
        task = asyncio.create_task(self._attempt(batch), name=f"delivery-batch-{batch['id']}")
        self._in_flight[batch["id"]] = task
        self._sending.add(batch["id"])
        task.add_done_callback(functools.partial(self._finished, batch["id"], label(batch)))

    def _finished(self, batch_id: int, name: str, task: asyncio.Task) -> None:
        self._in_flight.pop(batch_id, None)
        self._sending.discard(batch_id)
        self._wakeup.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: try ended with %s", name, _where(task.exception()))

    async def _attempt(self, batch: dict) -> None:
        """One try of one batch, then its settlement; a fault in the try costs a retry, not the worker."""
        try:
            outcome = await self._try(batch)
        except Exception as exc:  # noqa: BLE001 - any bug here must leave the batch queued, not kill delivery
            log.error("%s: try failed with %s; it will be retried", label(batch), _where(exc))
            results = {rcpt: (0, f"internal error: {type(exc).__name__}") for rcpt in batch["recipients"]}
            outcome = judge(batch, results, self.clock(), self.settings)
        self._sending.discard(batch["id"])
        self._wakeup.set()  # the connection is free while this try is recorded
        await self._record(batch, outcome)

    async def _try(self, batch: dict) -> Outcome:
        content = await outbound.content(self.store.db, batch["outbound_message_id"])
        if content is None:
            log.info("%s: dropped, its message was withdrawn from the queue", label(batch))
            return DROPPED
        recipients = list(dict.fromkeys(batch["recipients"]))
        try:
            if batch.get("personal") and batch.get("list"):
                prepared, on_top = await self._personal(batch, content)
                results = await self.transport.send(batch["mail_from"], recipients, prepared.content, verp=True,
                                                    personal=on_top)
            elif batch.get("verp"):
                results = await self.transport.send(batch["mail_from"], recipients, content, verp=True)
            elif batch.get("xverp"):
                results = await self.transport.send(batch["mail_from"], recipients, content, xverp=True)
            else:
                results = await self.transport.send(batch["mail_from"], recipients, content)
        except TransportError as exc:
            results = {rcpt: (0, str(exc)) for rcpt in recipients}
        now = self.clock()
        outcome = with_policy(judge(batch, results, now, self.settings), content, now)
        _log_try(batch, outcome, now)
        return outcome

    async def _personal(self, batch: dict, content: bytes) -> tuple[personal.Prepared, Personal]:
        """The batch's message prepared once for all its batches, and what goes on top of each member's copy."""
        key = batch["outbound_message_id"]
        source, prepared = self._prepared.get(key, (b"", None))
        if prepared is None or source != content:  # ids are reused once a message is gone; replace() changes bytes
            prepared = personal.prepare(self.whole, batch["list"].rpartition("@")[2], content)
            self._prepared.pop(key, None)
            while len(self._prepared) >= PREPARED_KEPT:
                self._prepared.pop(next(iter(self._prepared)))
            self._prepared[key] = (content, prepared)
        if self._secret is None:
            self._secret = await one_click.secret(self.store)
        secret, list_address, settings = self._secret, batch["list"], self.whole
        return prepared, lambda rcpt: prepared.on_top(one_click.headers(settings, secret, list_address, rcpt))

    async def _record(self, batch: dict, outcome: Outcome) -> None:
        """Settle the try in one transaction; while the database refuses, keep the batch in flight and retry.

        Letting it become due again instead would send the copy again to
        everyone this try already reached.
        """
        pause = max(self.settings.poll_interval, MIN_PAUSE)
        while True:
            try:
                await self.store.write(_apply, batch, outcome)
                return
            except (StoreError, sqlite3.Error, ValueError) as exc:  # ValueError: aiosqlite's closed connection
                log.error("%s: cannot record the try (%s); retrying in %.1fs", label(batch), _describe(exc), pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, RECORD_RETRY_MAX)


def judge(batch: dict, results: Results, now: float, settings: DeliverySettings) -> Outcome:
    """Sort a try's recipients by their replies: 2xx delivered, 5xx failed, anything else waits.

    Waiting recipients of a batch older than give_up_after fail for good with
    their last code (0 when there was no SMTP reply).
    """
    delivered, failures, waiting = 0, [], []
    for rcpt in dict.fromkeys(batch["recipients"]):
        code, text = results.get(rcpt, NO_REPLY)
        if 200 <= code < 300:
            delivered += 1
        elif 500 <= code < 600:
            failures.append((rcpt, code, _one_line(text)))
        else:
            waiting.append((rcpt, code, _one_line(text)))
    give_up_at = batch["created_at"] + settings.give_up_after
    if waiting and now >= give_up_at:
        failures += [(rcpt, code, f"gave up after {settings.give_up_after}s; last: {text}") for rcpt, code, text in waiting]
        waiting = []
    next_at = min(now + retry_delay(batch["attempts"], settings), give_up_at)
    return Outcome(delivered, failures, [rcpt for rcpt, _, _ in waiting], next_at, _summary(waiting))


def retry_delay(attempts: int, settings: DeliverySettings) -> float:
    """Seconds to wait after try number attempts+1 failed; the schedule's last value repeats.

    >>> [retry_delay(n, DeliverySettings(retry_schedule=(1, 5))) for n in range(4)]
    [1, 5, 5, 5]
    """
    schedule = settings.retry_schedule or DeliverySettings.retry_schedule  # empty: the built-in one
    return schedule[min(attempts, len(schedule) - 1)]


def with_policy(outcome: Outcome, content: bytes, now: float) -> Outcome:
    """The outcome, noting the refusals for policy reasons (DMARC, 5.7.x) with the post's author domain.

    They stay failures (the copy was not delivered) but bounce processing
    never counts them against the member; the domain is read here because
    the copy's content may be gone by the time the failures are counted.
    """
    refused = [(code, text) for _, code, text in outcome.failures if policy_bounces.is_policy(code, text)]
    if not refused:
        return outcome
    code, text = refused[0]
    return replace(outcome, policy=(policy_bounces.author_domain(content), len(refused), f"{code} {text}", now))


async def _apply(db: aiosqlite.Connection, batch: dict, outcome: Outcome) -> None:
    if outcome.failures:
        await outbound.record_failures(db, batch["list_id"], batch["outbound_message_id"], outcome.failures)
    if outcome.policy and batch["list_id"] is not None:
        domain, count, example, at = outcome.policy
        await policy_bounces.record(db, batch["list_id"], domain, count, example, at, "delivery")
    await outbound.settle(db, batch["id"], outcome.remaining, outcome.next_attempt_at, outcome.last_error)


def _summary(waiting: list[tuple[str, int, str]]) -> str:
    """last_error: the first waiting recipient's reply, and how many wait."""
    if not waiting:
        return ""
    _, code, text = waiting[0]
    reply = f"{code} {text}" if code else text
    return reply if len(waiting) == 1 else f"{reply} ({len(waiting)} recipients waiting)"


def _one_line(text: str, limit: int = 500) -> str:
    return " ".join(text.split())[:limit]


def label(batch: dict) -> str:
    """Which list and which post a delivery line is about: 'team@example.org archive:12 (batch 3, try 1)'.

    Copies that are not archived posts (notices, digests) are named by their
    outbound message id instead.

    >>> label({"list": "team@example.org", "archive_id": 12, "outbound_message_id": 7, "id": 3, "attempts": 0})
    'team@example.org archive:12 (batch 3, try 1)'
    >>> label({"list": None, "archive_id": None, "outbound_message_id": 7, "id": 3, "attempts": 2})
    'no list outbound:7 (batch 3, try 3)'
    """
    what = f"archive:{batch['archive_id']}" if batch.get("archive_id") is not None else \
        f"outbound:{batch['outbound_message_id']}"
    return f"{batch.get('list') or 'no list'} {what} (batch {batch['id']}, try {batch['attempts'] + 1})"


def _log_try(batch: dict, outcome: Outcome, now: float) -> None:
    """INFO when everyone got the copy; else a WARNING with the smarthost's reply (or why it was not reached).

    Counts, codes and reply texts only, never a subject or a body; addresses
    in a reply are masked, since who receives a confidential thread is itself
    a detail a pasted log need not carry (`queue ls` and the database keep
    the whole reply).
    """
    parts = [f"{outcome.delivered} delivered"]
    if outcome.failures:
        _, code, text = outcome.failures[0]
        reply = masked(f"{code} {text}" if code else text)
        parts.append(f"{len(outcome.failures)} failed for good ({reply})")
    if outcome.remaining:
        parts.append(f"{len(outcome.remaining)} waiting: {masked(outcome.last_error)}; "
                     f"next try in {max(0, round(outcome.next_attempt_at - now))}s")
    level = logging.WARNING if outcome.failures or outcome.remaining else logging.INFO
    log.log(level, "%s: %s", label(batch), ", ".join(parts))


def masked(reply: str) -> str:
    """A smarthost's reply with every email address replaced by <address>.

    >>> masked("550 5.1.1 <bob@example.org>: Recipient address rejected")
    '550 5.1.1 <address>: Recipient address rejected'
    >>> masked("451 4.3.0 try later"), masked("mailbox ann@example.org full")
    ('451 4.3.0 try later', 'mailbox <address> full')
    """
    return ADDRESS.sub("<address>", reply)


def _describe(exc: BaseException) -> str:
    """A database error's own text (SQLite's words, never content), else just where the fault was."""
    if isinstance(exc, (StoreError, sqlite3.Error)):
        return f"{type(exc).__name__}: {exc}"
    return _where(exc)


def _where(exc: BaseException) -> str:
    """The exception's type and innermost frame: enough to find the bug, without its text (may hold content)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    return f"{type(exc).__name__} at {last.filename}:{last.lineno} in {last.name}"
