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
    store: Store, list_address: str, as_address: str, before: int | None = None, after: int | None = None,
    per_page: int = PER_PAGE,
) -> dict:
    """A page of the list's threads for member as_address: {threads, older, newer}, newest first.

    Keyset pages (listserv.store.threads.page_for_list): the newest threads, or
    those whose latest post comes before the post numbered `before`, or the page
    just newer than the post numbered `after`. older/newer: the cursor of the
    next page that way (the number to give as before/after), None at an end.
    Each thread: id, subject, sender, sender_name, posts, last, last_id,
    confidential. NoSuchList, NoSuchMember as for access.reader.
    """
    mlist = await lists.get(store, list_address)
    who = await access.reader(store, mlist, as_address)
    rows = await store_threads.page_for_list(
        store.db, mlist.id, who.sees_confidential, per_page + 1, before=before, after=after
    )
    more = len(rows) > per_page
    rows = rows[:per_page] if after is None else list(reversed(rows[:per_page]))
    shown = [_thread(row) for row in rows]
    await access.record_reads(store, who, mlist.id, [row["first_id"] for row in rows if row["confidential"]], "threads")
    return {"threads": shown, **_cursors(shown, before, after, more)}


def _cursors(shown: list[dict], before: int | None, after: int | None, more: bool) -> dict:
    """older/newer cursors of a page: `more` tells whether the walk's own direction goes on."""
    if not shown:
        return {"older": None, "newer": None}
    older = shown[-1]["last_id"] if (after is not None or more) else None
    newer = shown[0]["last_id"] if (after is not None and more) or before is not None else None
    return {"older": older, "newer": newer}


def _thread(row: dict) -> dict:
    return {
        "id": row["thread_id"], "subject": row["subject"], "sender": row["sender"],
        "sender_name": row["sender_name"], "posts": row["posts"], "last": row["last"], "last_id": row["last_id"],
        "confidential": bool(row["confidential"]),
    }
