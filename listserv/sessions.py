"""Count the open SMTP sessions of one listener, so that one more than max_sessions is refused.

Each session costs a stream buffer and up to spool_above bytes of DATA in
memory; the count bounds their sum whatever the clients do.
"""

from __future__ import annotations


class Sessions:
    """How many sessions are open; enter() says whether one more may."""

    def __init__(self, limit: int) -> None:
        self.limit = limit  # 0: no limit
        self.open = 0

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
        self.open -= 1
