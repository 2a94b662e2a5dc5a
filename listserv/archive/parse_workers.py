"""The import's parse workers: spawned processes that end when the importer does, however it ends.

A ProcessPoolExecutor's workers wait on a pipe whose writing end they hold
themselves, so when the importer is killed (kill -9, the OOM killer, a lost
terminal) they would wait forever, each holding a batch of someone's mail in
memory. Each worker therefore makes sure of its parent's death two ways:
- on Linux it asks the kernel for SIGKILL when its parent dies
  (prctl(PR_SET_PDEATHSIG)); the kernel sends it when the thread that started
  the worker ends, which is the importer's event-loop thread, alive for as
  long as the pool is;
- everywhere, a daemon thread checks every WATCH seconds that its parent is
  still the process that started it (os.getppid() changes when the parent dies
  and the worker is adopted), and ends the worker if not.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
WATCH = 0.25  # seconds between the watchdog's checks of the parent
ORPHANED = 1  # a worker's exit status when it ends because its parent is gone


def pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` spawned processes (this process has database threads that fork must not copy)."""
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=die_with_parent, initargs=(os.getpid(),),
    )


def die_with_parent(parent: int) -> None:
    """Worker initializer: end this worker when the process `parent` ends (see the module docstring)."""
    _ask_the_kernel()
    if os.getppid() != parent:  # the parent died before the kernel was asked
        os._exit(ORPHANED)
    threading.Thread(target=_watch, args=(parent,), name="parent-watch", daemon=True).start()


def _ask_the_kernel() -> None:
    """Linux: SIGKILL this process when its parent dies. Elsewhere (or without libc) the watchdog alone does it."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH)
    os._exit(ORPHANED)
