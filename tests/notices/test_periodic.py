"""The periodic jobs: one tick runs them all, a failing job spares the rest, the daemon ticks on its injected clock."""

from __future__ import annotations

import asyncio
import json
import time

from listserv import periodic
from listserv.daemon import Daemon
from listserv.store import Store, held
from tests.bounces.helpers import make_team
from tests.delivery.helpers import Clock
from tests.e2e.helpers import LIST, make_list, message, send

DAY = 86400.0


async def test_a_failing_job_does_not_stop_the_others(store, settings, monkeypatch, caplog):
    """tick(): a job that raises is logged by type and place, and the next job still runs."""
    ran = []

    async def broken(store, settings, now):
        raise RuntimeError("secret subject line")

    async def fine(store, settings, now):
        ran.append(now)

    monkeypatch.setattr(periodic, "JOBS", (broken, fine))
    await periodic.tick(store, settings, 123.0)
    assert ran == [123.0]
    assert "periodic job broken failed: RuntimeError" in caplog.text and "secret subject" not in caplog.text


async def test_every_job_runs_on_an_empty_store(store, settings):
    """The real jobs run without error on a store with a list and nothing to do."""
    await make_team(store)
    await periodic.tick(store, settings, time.time())


async def test_the_scheduler_ticks_until_stopped(store, settings, monkeypatch):
    """Scheduler.run ticks at once and then every interval on the injected clock, and ends on stop()."""
    seen, woken = [], []

    async def job(store, settings, now):
        seen.append(now)

    monkeypatch.setattr(periodic, "JOBS", (job,))
    scheduler = periodic.Scheduler(store, settings, clock=lambda: 42.0, interval=0.01,
                                   after_tick=lambda: woken.append(1))
    task = asyncio.create_task(scheduler.run())
    while len(seen) < 3:
        await asyncio.sleep(0.01)
    scheduler.stop()
    await asyncio.wait_for(task, timeout=2)
    assert set(seen) == {42.0} and len(woken) >= 3


async def test_the_daemon_discards_an_expired_held_post_on_its_own(smtp_settings, sink, cli):
    """The running daemon, its clock moved 15 days on, auto-discards a held stranger's post; the audit says so."""
    clock = Clock()
    daemon = Daemon(smtp_settings, clock=clock, tick=0.05)
    await daemon.start()
    try:
        await make_list(cli)
        await send(daemon.port, message("stranger@example.com", "Let me in"), "stranger@example.com")
        await _wait_for(lambda: _held_count(cli), 1)
        clock.advance(15 * DAY)
        await _wait_for(lambda: _held_count(cli), 0)
    finally:
        await daemon.stop()
    store = await Store.open(smtp_settings.storage.database)
    try:
        assert await held.waiting(store.db) == []
        row = await held.get(store.db, 1)
        assert (row["decision"], row["decided_by"]) == ("discarded", "auto-expiry")
    finally:
        await store.close()


async def _held_count(cli) -> int:
    result = await cli("held", "ls", LIST, "--json")
    return len(json.loads(result.output))


async def _wait_for(count, expected: int, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if await count() == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {expected}")
