"""Who may see confidential posts in the archive: entitled members, and moderators whose every read is audited.

The command line reads the archive on someone's behalf:

- nobody named: confidential posts are left out, as if they did not exist;
- `--as ADDRESS`: what that member would see; confidential posts only when the
  member is entitled to them (members.confidential);
- `--include-confidential --by MODERATOR`: a moderator or owner of the list
  sees them too.

Every confidential post shown either way is written to the audit log (action
`read-confidential`, the archive id, who read and on whose behalf; never the
query or any text of the post), so `listserv audit ls` answers "who looked at
this case thread". The email commands (listserv.commands.search/get) decide
for the member who asks, through the same entitlement flag.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from listserv import lists
from listserv.addresses import normalise
from listserv.archive import search as archive_search
from listserv.archive.query import Query
from listserv.errors import NoSuchMember, NoSuchPost, NotAllowed, UsageError
from listserv.lists import MailingList
from listserv.store import Store, audit, members, messages

READ = "read-confidential"  # the audit action of every confidential post shown
MODERATING = ("moderator", "owner")


@dataclass(frozen=True)
class Reader:
    """On whose behalf the archive is read, and whether confidential posts are shown to them."""

    sees_confidential: bool = False
    actor: str = ""  # who is recorded in the audit log: the moderator, or the operator reading --as
    on_behalf: str = ""  # the member named by --as ('' for a moderator or nobody)


async def reader(
    store: Store, mlist: MailingList, as_address: str | None = None, moderator: str | None = None, by: str = ""
) -> Reader:
    """The Reader for --as ADDRESS or --include-confidential --by MODERATOR (neither: the public view).

    NotAllowed when MODERATOR is not a moderator or owner of the list;
    NoSuchMember when ADDRESS is not a member.
    """
    if as_address and moderator:
        raise UsageError("give either --as ADDRESS or --include-confidential --by MODERATOR, not both")
    if moderator:
        address = normalise(moderator)
        member = await members.get(store.db, mlist.id, address)
        if member is None or member.role not in MODERATING:
            raise NotAllowed(f"{address} is not a moderator or owner of {mlist.address}")
        return Reader(True, address)
    if as_address:
        address = normalise(as_address)
        member = await members.get(store.db, mlist.id, address)
        if member is None:
            raise NoSuchMember(f"{address} is not a member of {mlist.address}")
        return Reader(member.confidential, by or address, address)
    return Reader()


async def search(
    store: Store, list_address: str, query: Query | str, limit: int = 20, order: str = "rank",
    as_address: str | None = None, moderator: str | None = None, by: str = "",
) -> list[dict]:
    """archive.search for a reader; each result gains `confidential`, and each confidential one is audited."""
    mlist = await lists.get(store, list_address)
    who = await reader(store, mlist, as_address, moderator, by)
    found = await archive_search.search(
        store.db, mlist.id, query, limit=limit, order=order, include_confidential=who.sees_confidential
    )
    secret = await messages.confidential_among(store.db, [row["id"] for row in found]) if found else set()
    for row in found:
        row["confidential"] = row["id"] in secret
    await record_reads(store, who, mlist.id, [row["id"] for row in found if row["confidential"]], "search")
    return found


async def post(
    store: Store, archive_id: int, list_address: str | None = None, as_address: str | None = None,
    moderator: str | None = None, by: str = "", how: str = "show",
) -> dict:
    """One archived post (the messages row and raw) for a reader: NotAllowed for a confidential one they may not see.

    NoSuchPost for an unknown number, or one of another list when list_address is given. how: what the
    audit row of a confidential read says was done ("show", "attachment").
    """
    row = await messages.get(store.db, archive_id)
    if row is None:
        raise NoSuchPost(f"no archived post number {archive_id}")
    mlist = await lists.get_by_id(store, row["list_id"])
    if list_address and (await lists.get(store, list_address)).id != mlist.id:
        raise NoSuchPost(f"no archived post number {archive_id} in {list_address.strip().casefold()}")
    who = await reader(store, mlist, as_address, moderator, by)
    if row["confidential"] and not who.sees_confidential:
        raise NotAllowed(
            f"archived post {archive_id} is confidential: give --as ADDRESS (an entitled member)"
            " or --include-confidential --by MODERATOR"
        )
    if row["confidential"]:
        await record_reads(store, who, mlist.id, [archive_id], how)
    row["raw"] = await messages.raw(store.db, archive_id)
    row["confidential"] = bool(row["confidential"])
    return row


async def record_reads(store: Store, who: Reader, list_id: int, archive_ids: list[int], how: str) -> None:
    """One audit row per confidential post shown, in one transaction."""
    if archive_ids:
        await store.write(_record, who, list_id, archive_ids, how)


async def _record(db: aiosqlite.Connection, who: Reader, list_id: int, archive_ids: list[int], how: str) -> None:
    detail = f"{how} as {who.on_behalf}" if who.on_behalf else f"{how} as moderator"
    for archive_id in archive_ids:
        await audit.record(db, who.actor, READ, list_id, f"archive:{archive_id}", detail)


async def entitled(db: aiosqlite.Connection, list_id: int, address: str) -> bool:
    """True when address is a member of the list entitled to confidential posts (email commands, exports)."""
    member = await members.get(db, list_id, address)
    return member is not None and member.confidential


# ---- held posts: a moderator sees a confidential one's content only on purpose ----

HIDDEN = "(confidential)"
HELD_CONTENT = ("headers", "text", "attachments")  # attachments: their names (the web page lists them)


def masked(held_row: dict) -> dict:
    """A held post as listed: a confidential one's subject hidden and its headers, text and attachments left out.

    >>> masked({"id": 1, "confidential": True, "subject": "Re: case", "text": "t", "headers": []})
    {'id': 1, 'confidential': True, 'subject': '(confidential)'}
    """
    if not held_row.get("confidential"):
        return held_row
    shown = {key: value for key, value in held_row.items() if key not in HELD_CONTENT}
    shown["subject"] = HIDDEN
    return shown


async def record_held_read(store: Store, held_row: dict, actor: str) -> None:
    """Audit a moderator's read of a confidential held post's content (`held show --body`)."""
    mlist = await lists.get(store, held_row["list"])
    await store.write(audit.record, actor, READ, mlist.id, f"held:{held_row['id']}", "held show --body")
