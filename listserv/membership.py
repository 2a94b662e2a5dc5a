"""Member administration shared by the CLI and email commands: add, import, list, change, remove, approve.

Every change of membership goes through one of three audited operations,
join_in, leave_in and change_in, each taking the actor (`--by` or the login
name on the CLI, the member's own address by email) and writing its audit row
in the same transaction as the change; the CLI, the email commands and
anything later call them rather than the store.

MEMBER_SETTINGS is the one table of what `members set` may change; every value
an administrator types goes through it, so a bad key or value is refused with
one line naming it. Addresses are validated and case-folded (no DNS) before
they reach the store, so one person is one member.

The `*_in(db, ...)` functions run inside a caller's transaction (the
pipeline's, for email commands), so a command's change commits together with
its reply. Requests to join that an applicant confirmed wait in
pending_members until `approve` or `deny`, which tell the applicant by mail.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Iterable

from listserv import lists, outgoing
from listserv.addresses import normalise, owning_list
from listserv.outgoing import command_mail as mail
from listserv.config import Settings
from listserv.errors import BadAddress, BadSetting, IsListAddress, MemberExists, NoSuchList, NoSuchMember, NoSuchRequest, UsageError
from listserv.settings import Setting, lookup, table
from listserv.store import Store, audit
from listserv.store import lists as store_lists
from listserv.store import members as store_members
from listserv.store import pending as store_pending
from listserv.store.audit import UNNAMED
from listserv.store.members import Member

ROLES = ("member", "moderator", "owner")
DELIVERIES = ("regular", "digest", "nomail")

MEMBER_SETTINGS = table(
    Setting("name", "", "display name"),
    Setting("role", "member", "member; moderator (works the held queue); owner (also gets NAME-owner mail)", ROLES),
    Setting("delivery", "regular", "regular (every post), digest, or nomail (stays a member, gets nothing)", DELIVERIES),
    Setting("moderated", False, "hold this member's posts for a moderator"),
    Setting("confidential", True, "entitled to receive and find confidential posts"),
    Setting("ownposts", True, "whether the member gets a copy of their own posts (on/off)"),
)
# Older names of member settings, still accepted by `members set` and the `set` email command. "ownposts" is
# the name members know from `set ownposts on|off`; receive_own is what the store (and Member) call it.
MEMBER_ALIASES = {"receive_own": "ownposts"}
_COLUMNS = {"ownposts": "receive_own"}  # the store's column, where its name is not the setting's
# The audit actions of the three membership operations (`audit ls --action ...`).
JOIN = "subscribe"  # audit actions of the member operations (listserv.audit.ACTIONS)
LEAVE = "unsubscribe"
CHANGE = "set-member"
_CONTROL = ("Cc", "Zl", "Zp")


@dataclass
class ImportReport:
    """What an import did, row by row, for the summary and the exit status."""

    imported: list[str] = field(default_factory=list)  # addresses added
    existing: list[str] = field(default_factory=list)  # addresses that were members already (left as they were)
    repeated: list[str] = field(default_factory=list)  # "line 7: ... already on line 3" (first row kept)
    invalid: list[str] = field(default_factory=list)  # "line 4: bad address 'x': ..." (row skipped)

    def summary(self) -> str:
        return (
            f"imported {len(self.imported)}, already members {len(self.existing)}, "
            f"repeated in file {len(self.repeated)}, invalid {len(self.invalid)}"
        )


def setting_name(key: str) -> str:
    """The one name of a member setting: an alias (receive_own) becomes the name it stands for (ownposts)."""
    return MEMBER_ALIASES.get(key, key)


def parse_setting(key: str, value: str) -> object:
    """The typed value of one member setting (by its name or an alias), or BadSetting naming the key."""
    parsed = lookup(MEMBER_SETTINGS, setting_name(key), "member").parse(value)
    return _clean_name(parsed) if key == "name" else parsed


def _column(key: str) -> str:
    """The store's column for a member setting given by its name or an alias."""
    name = setting_name(key)
    return _COLUMNS.get(name, name)


def _clean_name(name: object) -> str:
    """Names end up in headers and on terminals: a line break or escape there could forge either."""
    text = str(name).strip()
    if any(unicodedata.category(ch) in _CONTROL for ch in text):
        raise BadSetting(f"name: control characters and line breaks are not allowed, got {text!r}")
    return text


def new_member(
    address: str, name: str = "", role: str = "member", delivery: str = "regular",
    confidential: bool = True, moderated: bool = False,
) -> dict:
    """A checked member row for the store; BadAddress or BadSetting say what is wrong."""
    return {
        "address": normalise(address),
        "name": parse_setting("name", name),
        "role": parse_setting("role", role),
        "delivery": parse_setting("delivery", delivery),
        "confidential": bool(confidential),
        "moderated": bool(moderated),
    }


async def _require_list(db, list_id: int, list_address: str) -> None:
    """Inside the write: the list may have been deleted since we looked it up."""
    if await store_lists.get_by_id(db, list_id) is None:
        raise NoSuchList(f"no such list: {list_address}")


async def list_addresses_in(db) -> set[str]:
    """The address of every list on the server: none of their addresses may become a member of any list."""
    return {row["address"] for row in await store_lists.all_lists(db)}


def refuse_list_address(address: str, list_addresses: set[str]) -> None:
    """IsListAddress when address is any address of any list on the server (posts, -request, +confidential,
    -bounces+VERP, -confirm+token ...): a list as a member would mail itself, and a confidential post
    would leave the membership through it."""
    owner = owning_list(address, list_addresses)
    if owner is not None:
        raise IsListAddress(f"{address} is an address of the list {owner} and cannot be a member of a list")


async def check_not_list_in(db, address: str) -> None:
    """refuse_list_address() against the lists as they are on this connection (inside a transaction)."""
    refuse_list_address(address, await list_addresses_in(db))


# ---- the three audited operations, inside the caller's transaction ----


async def join_in(db, list_id: int, member: dict, by: str, via: str = "") -> bool:
    """Add a checked member row (new_member); False when already a member. Audited under `by`, either way.

    via says by which path (import, approval ...) for the audit detail.
    """
    await check_not_list_in(db, member["address"])
    return await _join(db, list_id, member, by, via)


async def _join(db, list_id: int, member: dict, by: str, via: str) -> bool:
    """join_in() for rows whose address was checked against the lists already (an import checks them all once)."""
    added = await store_members.add(db, list_id, member)
    outcome = "added" if added else "already a member"
    await audit.record(db, by, JOIN, list_id, f"member:{member['address']}", _detail(outcome, via))
    return added


async def leave_in(db, list_id: int, address: str, by: str, via: str = "") -> bool:
    """Remove a member; False when not a member. Audited under `by`, either way."""
    removed = await store_members.remove(db, list_id, address)
    outcome = "removed" if removed else "not a member"
    await audit.record(db, by, LEAVE, list_id, f"member:{address}", _detail(outcome, via))
    return removed


async def change_in(db, list_id: int, address: str, key: str, value: str, by: str, via: str = "") -> Member:
    """Change one member setting (checked against MEMBER_SETTINGS first, so nothing is half done); audited.

    NoSuchMember (and no audit row: nothing changed) when the address is not a member.
    """
    parsed = parse_setting(key, value)
    if not await store_members.update(db, list_id, address, _column(key), parsed):
        raise NoSuchMember(f"{address} is not a member")
    detail = _detail(f"{setting_name(key)} = {parsed}", via)
    await audit.record(db, by, CHANGE, list_id, f"member:{address}", detail)
    return await store_members.get(db, list_id, address)


def _detail(what: str, via: str) -> str:
    return f"{what} ({via})" if via else what


# ---- administrators (CLI): each a write of its own ----


async def add(
    store: Store, list_address: str, address: str, name: str = "", role: str = "member",
    delivery: str = "regular", confidential: bool = True, moderated: bool = False, *, by: str = UNNAMED,
) -> Member:
    """Add one member; MemberExists rather than silently changing an existing member's settings."""
    member = new_member(address, name, role, delivery, confidential, moderated)
    mlist = await lists.get(store, list_address)
    await store.write(_insert, mlist.id, mlist.address, member, by)
    return await get(store, mlist.address, member["address"])


async def _insert(db, list_id: int, list_address: str, member: dict, by: str = UNNAMED) -> None:
    """Write job of add(): NoSuchList when the list went meanwhile, MemberExists (and no audit row) when there."""
    await _require_list(db, list_id, list_address)
    if not await join_in(db, list_id, member, by):
        raise MemberExists(f"{member['address']} is already a member of {list_address}")


async def find(store: Store, list_address: str, address: str) -> Member | None:
    """The member, or None; BadAddress for an unusable address, NoSuchList for an unknown list."""
    norm = normalise(address)
    mlist = await lists.get(store, list_address)
    return await store_members.get(store.db, mlist.id, norm)


async def lists_of(store: Store, address: str) -> list[lists.MailingList]:
    """The lists the address is a member of (any role), oldest list first; [] for an unusable address."""
    try:
        norm = normalise(address)
    except BadAddress:
        return []
    return [await lists.get_by_id(store, list_id) for list_id in await store_members.lists_of(store.db, norm)]


async def get(store: Store, list_address: str, address: str) -> Member:
    """The member, or NoSuchMember naming the address and the list."""
    found = await find(store, list_address, address)
    if found is None:
        raise NoSuchMember(f"{normalise(address)} is not a member of {list_address.strip().casefold()}")
    return found


async def listing(store: Store, list_address: str) -> list[Member]:
    """Every member of the list, by address: address, name, role, delivery, flags, bounce_score."""
    mlist = await lists.get(store, list_address)
    return await store_members.all_members(store.db, mlist.id)


async def roster_page(
    store: Store, list_address: str, contains: str = "", page: int = 1, per_page: int = 50
) -> tuple[list[tuple[Member, float]], bool]:
    """(one page of the members by address with when each joined, whether more follow), filtered by a search
    string on address or name: the owners' web page of a list of any size reads one page, never the whole list."""
    if page < 1 or not 1 <= per_page <= 1000:
        raise UsageError(f"page must be 1 or more and per_page 1 to 1000, not {page} and {per_page}")
    mlist = await lists.get(store, list_address)
    found = await store_members.page(store.db, mlist.id, contains.strip(), (page - 1) * per_page, per_page + 1)
    return found[:per_page], len(found) > per_page


async def remove(store: Store, list_address: str, address: str, *, by: str = UNNAMED) -> str:
    """Remove one member and return the normalised address; NoSuchMember when it is not on the list."""
    norm = normalise(address)
    mlist = await lists.get(store, list_address)

    async def job(db) -> None:
        if not await leave_in(db, mlist.id, norm, by):
            raise NoSuchMember(f"{norm} is not a member of {mlist.address}")

    await store.write(job)
    return norm


async def set_setting(
    store: Store, list_address: str, address: str, key: str, value: str, *, by: str = UNNAMED, via: str = "",
) -> Member:
    """Change one member setting (checked against MEMBER_SETTINGS); returns the updated member. via: the path
    (web ...) for the audit detail."""
    parse_setting(key, value)  # a bad key or value is refused before the address or the list is looked at
    norm = normalise(address)
    mlist = await lists.get(store, list_address)

    async def job(db) -> Member:
        try:
            return await change_in(db, mlist.id, norm, key, value, by, via)
        except NoSuchMember:
            raise NoSuchMember(f"{norm} is not a member of {mlist.address}") from None

    return await store.write(job)


async def leave(store: Store, settings: Settings, list_address: str, address: str, *, by: str, via: str) -> bool:
    """A member leaves by their own hand (the web pages): removed, audited under by, and sent the goodbye mail,
    in one transaction, as a confirmed email `unsubscribe` does; False, with nothing done and nothing
    audited, when the address is not (or no longer) a member."""
    norm = normalise(address)
    mlist = await lists.get(store, list_address)

    async def job(db) -> bool:
        if await store_members.get(db, mlist.id, norm) is None:
            return False
        await leave_in(db, mlist.id, norm, by, via)
        await outgoing.queue(db, settings, mlist, mail.goodbye(mlist, norm), [norm])
        return True

    return await store.write(job)


async def import_rows(
    store: Store, list_address: str, rows: Iterable[tuple[int, list[str]]],
    progress: Callable[[int], None] | None = None, *, by: str = UNNAMED,
) -> ImportReport:
    """Add (line number, [address, name, role]) rows in one write; bad rows are reported, not fatal.

    A row that repeats an earlier address in the file is reported and skipped
    (the first one wins); an address that is already a member is counted and
    left unchanged, so re-running an import never doubles or overwrites anyone.
    Each row joins through the audited operation, in one transaction.
    """
    mlist = await lists.get(store, list_address)
    report = ImportReport()
    members = _checked_rows(rows, report, progress, await list_addresses_in(store.db))

    async def job(db) -> None:
        await _require_list(db, mlist.id, mlist.address)
        for member in members:
            added = await _join(db, mlist.id, member, by, "import")
            (report.imported if added else report.existing).append(member["address"])

    await store.write(job)
    return report


def _checked_rows(
    rows: Iterable[tuple[int, list[str]]], report: ImportReport, progress: Callable[[int], None] | None,
    list_addresses: set[str],
) -> list[dict]:
    """The valid, first-seen rows as member dicts; the rest (a list's own address too) go into the report."""
    first_line: dict[str, int] = {}
    members = []
    for line, cells in rows:
        try:
            member = _row_member(cells)
            refuse_list_address(member["address"], list_addresses)
        except (UsageError, IsListAddress) as exc:
            report.invalid.append(f"line {line}: {exc}")
        else:
            address = member["address"]
            if address in first_line:
                report.repeated.append(f"line {line}: {address} already on line {first_line[address]}, skipped")
            else:
                first_line[address] = line
                members.append(member)
        if progress is not None:
            progress(1)
    return members


def _row_member(cells: list[str]) -> dict:
    """A CSV row (address[, name[, role]]) as a checked member; an empty role cell means member."""
    if not 1 <= len(cells) <= 3:
        raise BadSetting(f"expected address,name[,role], got {len(cells)} fields")
    name = cells[1] if len(cells) > 1 else ""
    role = cells[2].strip() if len(cells) > 2 and cells[2].strip() else "member"
    return new_member(cells[0], name, role)


# ---- inside a transaction: email commands and confirmations (the caller's write owns the commit) ----


def safe_name(text: str) -> str:
    """A display name from a stranger's From: header, or '' when it would be refused as a member name."""
    try:
        return str(parse_setting("name", text))
    except UsageError:
        return ""


async def member_in(db, list_id: int, address: str) -> Member | None:
    """The member, or None, read on the transaction's own connection."""
    return await store_members.get(db, list_id, address)


async def roster_in(db, list_id: int) -> list[Member]:
    """Every member of the list by address (for `who`)."""
    return await store_members.all_members(db, list_id)


async def managers_in(db, list_id: int) -> list[str]:
    """The owners' and moderators' addresses: who decides subscription requests."""
    return [member.address for member in await store_members.with_roles(db, list_id, ("owner", "moderator"))]


async def application_in(db, list_id: int, address: str) -> dict | None:
    """The confirmed request to join that waits for a moderator, or None."""
    return await store_pending.waiting_for(db, list_id, address)


async def apply_in(db, list_id: int, address: str, name: str, requested_at: float, now: float) -> bool:
    """Queue a confirmed request for a moderator; False when one waits already. Audited."""
    await check_not_list_in(db, address)
    queued = await store_pending.add(db, list_id, {
        "address": address, "name": safe_name(name), "requested_at": requested_at, "confirmed_at": now,
    })
    await audit.record(db, address, "apply", list_id, f"member:{address}", "waiting" if queued else "already waiting")
    return queued


# ---- subscription requests waiting for a moderator (CLI: members pending / approve / deny) ----


async def pending(store: Store, list_address: str) -> list[dict]:
    """Confirmed requests to join LIST that wait for a decision, oldest first."""
    mlist = await lists.get(store, list_address)
    rows = await store_pending.waiting(store.db, mlist.id)
    return [{k: row[k] for k in ("address", "name", "requested_at", "confirmed_at")} for row in rows]


async def _decide(store: Store, settings: Settings, list_address: str, address: str, by: str, decision: str,
                  reason: str = "") -> str:
    """Approve or deny one request in one transaction: decision, membership, the applicant's notice, audit."""
    norm = normalise(address)
    mlist = await lists.get(store, list_address)

    async def job(db) -> str:
        row = await store_pending.waiting_for(db, mlist.id, norm)
        if row is None or not await store_pending.decide(db, row["id"], decision, by, time.time(), reason):
            raise NoSuchRequest(f"no subscription request from {norm} waits on {mlist.address}")
        if decision == "approved":
            await join_in(db, mlist.id, new_member(norm, safe_name(row["name"])), by, "request approved")
            notice = mail.welcome(mlist, norm)
        else:
            notice = mail.denied(mlist, norm, reason)
        await outgoing.queue(db, settings, mlist, notice, [norm])
        action = {"approved": "approve-member", "denied": "deny-member"}[decision]
        await audit.record(db, by, action, mlist.id, f"member:{norm}", "applicant told")
        return norm

    return await store.write(job)


async def approve(store: Store, settings: Settings, list_address: str, address: str, by: str) -> Member:
    """Make a waiting applicant a member and welcome them by mail; NoSuchRequest when nothing waits."""
    norm = await _decide(store, settings, list_address, address, by, "approved")
    return await get(store, list_address, norm)


async def deny(store: Store, settings: Settings, list_address: str, address: str, by: str, reason: str = "") -> str:
    """Refuse a waiting applicant and tell them (with the reason, when given); returns the address."""
    return await _decide(store, settings, list_address, address, by, "denied", " ".join(reason.split()))
