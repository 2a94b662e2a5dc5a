"""A list's threads page by page, newest activity first, for a reader (the web archive's front page).

What a reader sees is decided as for `archive search --as`
(listserv.archive.access.reader): confidential posts count only for an
entitled member, and each confidential thread shown is audited through its
first post, as a search result would be.
"""

from __future__ import annotations

from listserv import lists
from listserv.archive import access
from listserv.store import Store
from listserv.store import threads as store_threads

PER_PAGE = 25


async def threads(
    store: Store, list_address: str, as_address: str, page: int = 1, per_page: int = PER_PAGE
) -> dict:
    """Page `page` (from 1) of the list's threads for member as_address: {threads, page, more}.

    Each thread: id, subject, sender, sender_name, posts, last, confidential.
    NoSuchList, NoSuchMember as for access.reader.
    """
    mlist = await lists.get(store, list_address)
    who = await access.reader(store, mlist, as_address)
    page = max(page, 1)
    rows = await store_threads.page_for_list(
        store.db, mlist.id, who.sees_confidential, per_page + 1, (page - 1) * per_page
    )
    shown = [_thread(row) for row in rows[:per_page]]
    secret = [row["first_id"] for row in rows[:per_page] if row["confidential"]]
    await access.record_reads(store, who, mlist.id, secret, "threads")
    return {"threads": shown, "page": page, "more": len(rows) > per_page}


def _thread(row: dict) -> dict:
    return {
        "id": row["thread_id"], "subject": row["subject"], "sender": row["sender"],
        "sender_name": row["sender_name"], "posts": row["posts"], "last": row["last"],
        "confidential": bool(row["confidential"]),
    }
