"""The daemon's periodic work: one small loop that runs every job in JOBS each tick, on an injectable clock.

Each job takes (store, settings, now) and is idempotent: it looks at the store
to see what is due (a digest past its time or size, a reminder not sent today,
a held post past its expiry, failures not yet counted), so a tick missed while
the daemon was down is simply caught up by the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Callable

from listserv import bounces, digests, expiry, policy_bounces, postfix_maps, reminders
from listserv.archive import retention
from listserv.config import Settings
from listserv.pipeline.msgdata import fault
from listserv.store import Store

log = logging.getLogger(__name__)
TICK = 30.0  # seconds between ticks: how late a digest past its size threshold may go out

# In order: failures are counted before anything that mails members, so a
# member disabled this tick gets no digest; the rest are independent.
JOBS = (
    bounces.count_delivery_failures,
    bounces.decay_scores,
    policy_bounces.report_due,  # at most daily: copies refused for policy (DMARC), per author domain
    digests.send_due,
    reminders.remind,
    expiry.expire_held,
    postfix_maps.refresh,  # with [postfix] maps_dir: Postfix's maps follow lists created or deleted
    retention.purge_due,  # confidential text past the list's confidential_retention_days
)


async def tick(store: Store, settings: Settings, now: float) -> None:
    """Run every job once; a failing job is logged (type and place only) and the others still run."""
    for job in JOBS:
        try:
            await job(store, settings, now)
        except Exception as exc:  # noqa: BLE001 - one bad job (or a busy database) must not stop the others
            log.error("periodic job %s failed: %s", job.__name__, fault(exc))


class Scheduler:
    """Runs tick() every `interval` seconds until stop(); the daemon owns one."""

    def __init__(self, store: Store, settings: Settings, clock: Callable[[], float] = time.time,
                 interval: float = TICK, after_tick: Callable[[], None] | None = None) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.interval = interval
        self.after_tick = after_tick  # e.g. wake delivery: a tick may have queued mail
        self._stop = asyncio.Event()

    async def run(self) -> None:
        """Tick at once (catching up after a restart), then every interval."""
        while not self._stop.is_set():
            await tick(self.store, self.settings, self.clock())
            if self.after_tick is not None:
                self.after_tick()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)

    def stop(self) -> None:
        self._stop.set()
