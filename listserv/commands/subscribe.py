"""The `subscribe [ADDRESS]` command: mail a confirmation request to the address concerned, and to no one else.

Whether the address can be subscribed is never told to anyone but its owner:
a request for someone else gets the same answer whatever the state, so the
membership of a confidential list cannot be probed by email. A non-member's
request is answered only by the confirmation request itself (handle.py), so a
forged request mails only the address concerned, at most once an hour.
"""

from __future__ import annotations

from listserv import confirm, membership
from listserv.addresses import owning_list, sub_address
from listserv.commands.context import Request, Result
from listserv.outgoing import command_mail as mail


def for_someone_else(action: str, address: str) -> Result:
    """The one answer about another address, whatever its state."""
    return Result(
        f"If {address} can be {action}d, a confirmation request was mailed to that address;"
        " nothing changes unless it is confirmed from there."
    )


def already_sent(row: dict) -> str:
    return (
        f"A confirmation request was mailed to {row['address']} less than an hour ago and is valid until"
        f" {mail.when(row['expires_at'])}; look for it (and in your spam folder) before asking again."
    )


async def ask(request: Request, action: str, address: str, name: str = "") -> Result | None:
    """Issue a token and queue the confirmation request; a Result instead when one went out within the hour."""
    recent = await confirm.recently_sent(request.db, request.mlist, action, address, request.now)
    if recent is not None:
        return Result(already_sent(recent))
    token, expires_at = await confirm.issue(
        request.db, request.mlist, action, address, request.now, name=name, requested_by=request.sender
    )
    moderated = request.mlist.settings.subscription_policy == "moderate"
    request.send(mail.confirmation(request.mlist, address, action, token, expires_at, moderated), [address])
    return None


async def run(request: Request, rest: str) -> Result:
    mlist = request.mlist
    if mlist.settings.subscription_policy == "closed":
        owner = sub_address(mlist.address, "owner")
        return Result(f"{mlist.address} does not take subscriptions by email; write to its owners at {owner}.", True)
    address = request.target(rest)
    owner = owning_list(address, await membership.list_addresses_in(request.db))
    if owner is not None:  # this list's or another's, any sub-address: the same check as `members add`
        return Result(f"{address} is an address of the list {owner} and cannot be subscribed.", True)
    if address == request.sender:
        return await _for_myself(request, address)
    if not await _joined_or_waiting(request, address):
        await ask(request, "subscribe", address)
    return for_someone_else("subscribe", address)


async def _joined_or_waiting(request: Request, address: str) -> bool:
    member = await membership.member_in(request.db, request.mlist.id, address)
    return member is not None or await membership.application_in(request.db, request.mlist.id, address) is not None


async def _for_myself(request: Request, address: str) -> Result:
    mlist = request.mlist
    if await membership.member_in(request.db, mlist.id, address) is not None:
        return Result(f"You are already a member of {mlist.address}.")
    if await membership.application_in(request.db, mlist.id, address) is not None:
        return Result(f"Your request to join {mlist.address} already waits for a moderator; you will hear the outcome.")
    refused = await ask(request, "subscribe", address, request.sender_name)
    return refused or Result(f"A confirmation request was mailed to you at {address}; follow it to join.")
