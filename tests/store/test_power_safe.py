"""The store's commits are flushed one by one (synchronous=FULL) unless opened for redoable work, which a crash
of its process still never undoes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from listserv import lists
from listserv.store import Store

KILLED_AFTER_COMMIT = """
import asyncio, os, signal, sys
from listserv import lists
from listserv.store import Store

async def main():
    store = await Store.open(sys.argv[1], power_safe=False)
    await lists.create(store, "team@example.org", description="made before the kill")
    os.kill(os.getpid(), signal.SIGKILL)  # no close, no checkpoint: as kill -9 leaves it

asyncio.run(main())
"""


async def _synchronous(store: Store) -> int:
    rows = await store.writer.db.execute_fetchall("PRAGMA synchronous")
    return rows[0][0]


async def test_the_default_store_flushes_every_commit(settings):
    """Store.open's writer commits with synchronous=FULL (2): what a 250 promises survives a power loss."""
    store = await Store.open(settings.storage.database)
    try:
        assert await _synchronous(store) == 2
    finally:
        await store.close()


async def test_a_store_for_redoable_work_leaves_the_flush_out(settings):
    """power_safe=False (the pipeline process's store) commits with synchronous=NORMAL (1)."""
    store = await Store.open(settings.storage.database, power_safe=False)
    try:
        assert await _synchronous(store) == 1
    finally:
        await store.close()


async def test_a_commit_without_the_flush_survives_kill_9_of_its_process(settings):
    """A process that committed with power_safe=False and was killed with SIGKILL right after: the commit is there."""
    done = subprocess.run([sys.executable, "-c", KILLED_AFTER_COMMIT, settings.storage.database],
                          env={**os.environ}, capture_output=True, text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    store = await Store.open(settings.storage.database)
    try:
        assert (await lists.get(store, "team@example.org")).description == "made before the kill"
    finally:
        await store.close()
