"""Read the audit log for `listserv audit ls`: who approved, rejected, purged, and who read confidential posts.

Entries name people, actions and object ids (`held:12`, `archive:40`), never
the content of a post; reading them is therefore not itself audited.
"""

from __future__ import annotations

from listserv import lists
from listserv.errors import UsageError
from listserv.store import Store
from listserv.store import audit as store_audit

MAX_LIMIT = 100000


async def entries(store: Store, list_address: str | None = None, limit: int = 100, action: str | None = None) -> list[dict]:
    """The newest entries first (of one list, NoSuchList if unknown, or of all), optionally of one action.

    Each: id, at (unix time), actor, action, list, object, detail.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"--limit must be between 1 and {MAX_LIMIT}, not {limit}")
    list_id = (await lists.get(store, list_address)).id if list_address else None
    return await store_audit.entries(store.db, list_id, limit, action)
