"""What the outbound queue still owes, and a way to make every waiting batch due now."""

from __future__ import annotations

import time

from listserv.store import Store
from listserv.store import outbound as store_outbound


async def listing(store: Store) -> list[dict]:
    """Every queued batch: id, list, recipients (a count, never the addresses), attempts,
    next_attempt_at (unix time), last_error.

    Only the count of recipients is shown: who receives a confidential thread is
    itself a detail an operator's screen or a pasted support log need not carry.
    """
    return await store_outbound.listing(store.db)


async def retry(store: Store) -> int:
    """Make every batch waiting for a retry due now (after the smarthost is fixed); returns how many.

    A running daemon picks them up at its next look at the queue
    (delivery.poll_interval); nothing is sent from here.
    """
    return await store.write(store_outbound.retry_all, time.time())
