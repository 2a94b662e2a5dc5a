"""List administration shared by the CLI and email commands: create, inspect, configure, delete.

LIST_SETTINGS is the one table of per-list settings: its defaults apply until
`lists set` stores an override in the list's settings JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import aiosqlite

from listserv.addresses import candidates, normalise
from listserv.archive.compact import Compacted, compact
from listserv.errors import BadSetting, ListExists, NoSuchList
from listserv.settings import Setting, lookup, table
from listserv.store import Store, inbound
from listserv.store import lists as store_lists

NONMEMBER_ACTIONS = ("hold", "reject", "discard", "accept")
SUBSCRIPTION_POLICIES = ("confirm", "moderate", "closed")
# Not stored with the settings, but checked like one: it ends up in the List-Id of every post.
DESCRIPTION = Setting("description", "", "one line describing the list, shown in List-Id")


class TimeOfDay(Setting):
    """A setting that takes a time of day as HH:MM (24-hour clock), or empty for none."""

    def parse(self, text: str) -> object:
        """'7:05' -> '07:05'; '' stays ''; anything else is BadSetting naming the setting.

        >>> TimeOfDay("t", "", "").parse(" 7:05 "), TimeOfDay("t", "", "").parse("")
        ('07:05', '')
        >>> TimeOfDay("t", "", "").parse("24:00")
        Traceback (most recent call last):
        ...
        listserv.errors.BadSetting: t: expected a time of day as HH:MM (00:00 to 23:59) or empty, got '24:00'
        """
        value = str(text).strip()
        if not value:
            return ""
        found = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", value)
        if found is None:
            raise BadSetting(f"{self.name}: expected a time of day as HH:MM (00:00 to 23:59) or empty, got {value!r}")
        return f"{int(found[1]):02d}:{found[2]}"

LIST_SETTINGS = table(
    Setting("nonmember_action", "hold", "what happens to posts from non-members", NONMEMBER_ACTIONS),
    Setting("subject_prefix", "[{name}]", "prefix added to subjects; {name} is the list's name; empty for none"),
    Setting("emergency_moderation", False, "hold every post, members' included, for a moderator"),
    Setting("max_message_size", 0, "hold posts larger than this many bytes for a moderator; 0 for no limit"),
    Setting("reply_goes_to_list", False, "set Reply-To to the list on every post"),
    Setting("archive", True, "keep accepted posts in the archive"),
    Setting("notify_rejected_nonmembers", False, "tell a non-member why their post was rejected (off: no backscatter)"),
    Setting(
        "subscription_policy", "moderate",
        "subscribing by email to NAME-request@: confirm (the address confirms, then joins), moderate (confirms,"
        " then a moderator approves: `members pending/approve/deny`), closed (only administrators add members)",
        SUBSCRIPTION_POLICIES,
    ),
    Setting("confirm_days", 7, "days a subscribe/unsubscribe confirmation stays valid (at least 1)"),
    Setting("digest_size_threshold", 30, "send the digest as soon as its posts pass this many kilobytes (0: no size trigger)"),
    TimeOfDay("digest_time", "12:00", "send pending digests daily at this time, HH:MM server local time (empty: no daily send)"),
    Setting("verp", True, "give each copy its own envelope sender NAME-bounces+LOCAL=DOMAIN@DOMAIN so a bounce names the member"),
    Setting("verp_interval_hours", 24, "with verp on, VERP a post only when none was VERP'd in this many hours (0: every post)"),
    Setting("bounce_threshold", 5, "bounce score at which a member's delivery is set to nomail and they are told (0: never)"),
    Setting("bounce_decay_days", 7, "days in which a bounce score halves (0: scores never decay)"),
    Setting("hold_expiry_days", 14, "discard held non-member posts after this many days (0: keep until a moderator decides)"),
    Setting("moderator_notices", True, "mail the moderators when a post is held, and a daily reminder of what waits"),
    # Confidential threads (listserv.pipeline.confidential, listserv.archive.access/retention; README explains them).
    Setting("confidential_tag", "[CONFIDENTIAL]", "subject tag that marks a post confidential (any case); ensured on"
            " every confidential copy; empty: no tag marking"),
    Setting("all_confidential", False, "treat every thread on the list as confidential"),
    Setting("confidential_archive", "restricted", "restricted (stored; found only by entitled members and audited"
            " moderators) or none (only the thread map and date are kept)", ("restricted", "none")),
    Setting("confidential_retention_days", 0, "purge the stored text of confidential posts after this many days"
            " (0: keep)"),
    Setting("confidential_notice", "Confidential thread: do not forward outside the list.",
            "line added at the top of the text of every confidential copy (empty: none)"),
    Setting("leak_guard", "notify", "a confidential post naming addresses outside the list in To/Cc: notify (deliver"
            " without them, tell the sender and moderators) or hold (for a moderator, and tell them)", ("notify", "hold")),
)


@dataclass(frozen=True)
class MailingList:
    """One list with every setting resolved (defaults applied)."""

    id: int
    address: str
    description: str
    settings: dict
    members: int = 0

    @property
    def name(self) -> str:
        return self.address.partition("@")[0]

    @property
    def domain(self) -> str:
        return self.address.partition("@")[2]

    def get(self, key: str) -> object:
        return self.settings[key]

    @property
    def subject_prefix(self) -> str:
        return str(self.settings["subject_prefix"]).replace("{name}", self.name)

    def as_json(self) -> dict:
        return {"address": self.address, "description": self.description, "members": self.members, **self.settings}


def _resolved(row: dict) -> MailingList:
    settings = {name: s.default for name, s in LIST_SETTINGS.items()}
    settings.update({k: v for k, v in row["settings"].items() if k in LIST_SETTINGS})
    return MailingList(row["id"], row["address"], row["description"], settings, row.get("members", 0))


async def create(store: Store, address: str, description: str = "", nonmember_action: str = "hold") -> MailingList:
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
        return await store_lists.create(db, norm, description, overrides)

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


async def set_setting(store: Store, address: str, key: str, value: str) -> MailingList:
    """Change one setting (or the description); the value is checked against its type."""
    mlist = await get(store, address)
    description, overrides = mlist.description, dict(mlist.settings)
    if key == "description":
        description = DESCRIPTION.parse(value)
    else:
        overrides[key] = lookup(LIST_SETTINGS, key, "list").parse(value)
    stored = {k: v for k, v in overrides.items() if v != LIST_SETTINGS[k].default}
    await store.write(store_lists.update, mlist.id, description, stored)
    return await get(store, address)


@dataclass(frozen=True)
class Deleted:
    """What `lists delete` reports: the list, and the bytes the database took on disk before and after."""

    address: str
    space: Compacted

    def as_json(self) -> dict:
        return {"address": self.address, **self.space.as_json()}


async def delete(store: Store, address: str) -> Deleted:
    """Delete a list with its members, held posts, archive and queued copies, and give the space back.

    Destroyed means destroyed: the search index is merged (a deleted post's
    words stay in its pages until then), the file is compacted (VACUUM) and
    the write-ahead log emptied, so none of the list's text remains in any
    file of the database, even while the daemon keeps running.
    """
    mlist = await get(store, address)
    before = store.size()
    await store.write(store_lists.delete, mlist.id, await _inbound_of(store, mlist.address))
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
