"""List administration shared by the CLI and email commands: create, inspect, configure, delete.

A MailingList carries its settings typed (listserv.list_settings): the
defaults of LIST_SETTINGS apply until `lists set` stores an override in the
list's settings JSON.

Creating, configuring and deleting a list each write an audit row in the
same transaction, under the actor the caller names (`--by`, else cli:LOGIN).
The row of a deletion names the list by address and belongs to no list, so it
outlives the list's own rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from listserv.addresses import candidates, normalise
from listserv.archive.compact import Compacted, compact
from listserv.errors import BadSetting, ListExists, NoSuchList
# LIST_SETTINGS and NONMEMBER_ACTIONS are re-exported: callers know them as lists.*
from listserv.list_settings import LIST_SETTINGS, NONMEMBER_ACTIONS, ListSettings  # noqa: F401 (cli.py reads it)
from listserv.settings import Setting
from listserv.store import Store, audit, inbound
from listserv.store import lists as store_lists

# The audit actions of list administration (`audit ls --action ...`).
CREATE = "create-list"  # audit actions of this module (listserv.audit.ACTIONS)
CONFIGURE = "set-list"
DELETE = "delete-list"
# Not stored with the settings, but checked like one: it ends up in the List-Id of every post.
DESCRIPTION = Setting("description", "", "one line describing the list, shown in List-Id")


@dataclass(frozen=True)
class MailingList:
    """One list with every setting resolved (defaults applied)."""

    id: int
    address: str
    description: str
    settings: ListSettings
    members: int = 0

    @property
    def name(self) -> str:
        return self.address.partition("@")[0]

    @property
    def domain(self) -> str:
        return self.address.partition("@")[2]

    @property
    def subject_prefix(self) -> str:
        return self.settings.subject_prefix.replace("{name}", self.name)

    def as_json(self) -> dict:
        return {"address": self.address, "description": self.description, "members": self.members,
                **self.settings.as_dict()}


def _resolved(row: dict) -> MailingList:
    settings = ListSettings.from_stored(row["settings"])
    return MailingList(row["id"], row["address"], row["description"], settings, row.get("members", 0))


async def create(
    store: Store, address: str, description: str = "", nonmember_action: str = "hold", *, by: str = audit.UNNAMED,
) -> MailingList:
    """Create a list; the address must be new and its name must not end like a sub-address."""
    norm = normalise(address)
    name = norm.partition("@")[0]
    if "+" in name or name.endswith(("-request", "-owner", "-bounces", "-confirm")):
        raise BadSetting(f"a list name cannot contain '+' or end in -request/-owner/-bounces/-confirm: {norm}")
    LIST_SETTINGS["nonmember_action"].parse(nonmember_action)
    description = DESCRIPTION.parse(description)
    overrides = {} if nonmember_action == "hold" else {"nonmember_action": nonmember_action}

    async def insert(db):
        if await store_lists.exists(db, norm):
            raise ListExists(f"list already exists: {norm}")
        list_id = await store_lists.create(db, norm, description, overrides)
        await audit.record(db, by, CREATE, list_id, f"list:{norm}", f"nonmember_action = {nonmember_action}")

    await store.write(insert)
    return await get(store, norm)


async def find(store: Store, address: str) -> MailingList | None:
    """The list at this exact (normalised) address, or None."""
    row = await store_lists.get(store.db, address.strip().casefold())
    return _resolved(row) if row else None


async def get(store: Store, address: str) -> MailingList:
    """The list, or NoSuchList with the address in the message."""
    found = await find(store, address)
    if found is None:
        raise NoSuchList(f"no such list: {address.strip()}")
    return found


async def get_by_id(store: Store, list_id: int) -> MailingList:
    row = await store_lists.get_by_id(store.db, list_id)
    if row is None:
        raise NoSuchList(f"no such list id: {list_id}")
    return _resolved(row)


async def get_in(db: aiosqlite.Connection, list_id: int) -> MailingList | None:
    """The list by id on a given connection (the writer's, inside a transaction), or None when it is gone."""
    row = await store_lists.get_by_id(db, list_id)
    return _resolved(row) if row else None


async def all_lists(store: Store) -> list[MailingList]:
    return [_resolved(row) for row in await store_lists.all_lists(store.db)]


async def set_setting(store: Store, address: str, key: str, value: str, *, by: str = audit.UNNAMED) -> MailingList:
    """Change one setting (or the description); the value is checked against its type. Audited."""
    mlist = await get(store, address)
    description, changed = mlist.description, mlist.settings
    if key == "description":
        description = DESCRIPTION.parse(value)
        shown = description
    else:
        changed = changed.with_text(key, value)
        shown = getattr(changed, key)

    async def job(db) -> None:
        await store_lists.update(db, mlist.id, description, changed.overrides())
        await audit.record(db, by, CONFIGURE, mlist.id, f"list:{mlist.address}", f"{key} = {shown}")

    await store.write(job)
    return await get(store, address)


@dataclass(frozen=True)
class Deleted:
    """What `lists delete` reports: the list, and the bytes the database took on disk before and after."""

    address: str
    space: Compacted

    def as_json(self) -> dict:
        return {"address": self.address, **self.space.as_json()}


async def delete(store: Store, address: str, *, by: str = audit.UNNAMED) -> Deleted:
    """Delete a list with its members, held posts, archive and queued copies, and give the space back.

    Destroyed means destroyed: the search index is merged (a deleted post's
    words stay in its pages until then), the file is compacted (VACUUM) and
    the write-ahead log emptied, so none of the list's text remains in any
    file of the database, even while the daemon keeps running. The audit
    keeps who deleted which list, and how many members it had.
    """
    mlist = await get(store, address)
    before = store.size()
    inbound_ids = await _inbound_of(store, mlist.address)

    async def job(db) -> None:
        await store_lists.delete(db, mlist.id, inbound_ids)
        await audit.record(db, by, DELETE, None, f"list:{mlist.address}", f"{mlist.members} members")

    await store.write(job)
    after = await compact(store)
    return Deleted(mlist.address, Compacted(before, after.bytes_after))


async def _inbound_of(store: Store, list_address: str) -> list[int]:
    """Ids of the processed inbound rows whose every envelope recipient is an address of this list."""
    found, after = [], 0
    while rows := await inbound.processed_envelopes(store.db, after, 1000):
        found += [row["id"] for row in rows if row["rcpt_tos"] and all(
            any(c.list_address == list_address for c in candidates(rcpt)) for rcpt in row["rcpt_tos"])]
        after = rows[-1]["id"]
    return found
