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
# Every action the audit log records, with what it means: `audit ls --action` takes only these (a test checks
# that each action the code records is here, so a filter never silently matches nothing for a typo).
ACTIONS = {
    "accept": "a post was accepted and sent to the members",
    "apply": "someone asked to join a list whose subscriptions a moderator approves",
    "approve": "a moderator approved a held post",
    "approve-member": "a moderator approved a request to join",
    "bounce": "a bounce was counted against a member",
    "create-list": "a list was created",
    "delete-list": "a list was deleted with its archive (the row names the list and its member count)",
    "deny-member": "a moderator refused a request to join",
    "digest": "a digest was sent",
    "digest-dropped": "posts for a digest were dropped: the list has no digest members",
    "disable": "delivery to a bouncing member was stopped",
    "discard": "a post was discarded (by a rule, a moderator, or its hold expired)",
    "forward": "mail to the list's -owner address was forwarded to the owners",
    "hold": "a post was held for a moderator",
    "leak-guard": "a confidential post's outside recipients were removed",
    "policy-refusal": "copies were refused for policy (DMARC, authentication): counted per author domain, not as bounces",
    "purge": "the text of confidential posts was removed",
    "read-confidential": "someone was shown a confidential post",
    "reject": "a post was rejected",
    "set-list": "a list setting was changed",
    "set-member": "a member's setting was changed",
    "subscribe": "a member joined",
    "unsubscribe": "a member left",
}


async def entries(
    store: Store, list_address: str | None = None, limit: int = 100, action: str | None = None,
    before: int | None = None,
) -> list[dict]:
    """The newest entries first (of one list, NoSuchList if unknown, or of all), optionally of one action, and
    with before only those older than that entry id (the web page's next page).

    Each: id, at (unix time), actor, action, list, object, detail.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"--limit must be between 1 and {MAX_LIMIT}, not {limit}")
    list_id = (await lists.get(store, list_address)).id if list_address else None
    return await store_audit.entries(store.db, list_id, limit, action, before)
