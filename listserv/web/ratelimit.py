"""A sliding-window counter: how often a key (an address, a client) may do something in a window.

Kept in the daemon's memory: a restart forgets it, which costs an attacker a
restart of the server, not more.
"""

from __future__ import annotations

from collections import deque
from typing import Callable


class Limiter:
    """At most `limit` events per key in any `window` seconds."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        """Count one event for key; False (and not counted) when the key is over its limit.

        >>> limiter = Limiter(2, 60, lambda: 0.0)
        >>> [limiter.allow("a"), limiter.allow("a"), limiter.allow("a"), limiter.allow("b")]
        [True, True, False, True]
        """
        now = self.clock()
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        self._forget_idle(now)
        return True

    def _forget_idle(self, now: float) -> None:
        """Drop keys with no event in the window, so memory stays bounded by recent traffic."""
        if len(self._events) > 10000:
            self._events = {key: seen for key, seen in self._events.items() if seen and seen[-1] > now - self.window}
