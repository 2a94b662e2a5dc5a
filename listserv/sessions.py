"""Count the open SMTP sessions of one listener, refuse one more than max_sessions, give memory back after.

Each session costs a stream buffer and up to spool_above bytes of DATA in
memory; the count bounds their sum whatever the clients do. When sessions
end, glibc keeps their freed buffers in its heap (the daemon once stayed at
1.9 GB after 200 aborted 9 MB sessions), so a trim follows ending sessions.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
from typing import Callable


def _trimmer() -> Callable[[], None]:
    """glibc's malloc_trim(0), or nothing on a C library without it (musl, macOS)."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: trim(0) and None


class Sessions:
    """How many sessions are open; enter() says whether one more may."""

    TRIM_AFTER = 0.2  # seconds after a session ended: its buffers are freed once its handler task has unwound

    def __init__(self, limit: int) -> None:
        self.limit = limit  # 0: no limit
        self.open = 0
        self._trim = _trimmer()
        self._trim_due: asyncio.TimerHandle | None = None

    def enter(self) -> bool:
        """Count a new session in, or refuse it (False) when `limit` are open.

        >>> sessions = Sessions(1)
        >>> sessions.enter(), sessions.enter(), sessions.open
        (True, False, 1)
        """
        if self.limit and self.open >= self.limit:
            return False
        self.open += 1
        return True

    def leave(self) -> None:
        """Count a session out, and hand freed memory back to the system soon after (at most one trim pending)."""
        self.open -= 1
        if self._trim_due is None:
            self._trim_due = asyncio.get_running_loop().call_later(self.TRIM_AFTER, self._trimmed)

    def _trimmed(self) -> None:
        self._trim_due = None
        self._trim()
