"""The `confirm TOKEN` command (also a reply to a confirmation, and mail to NAME-confirm+TOKEN@): carry out a request.

A confirmed subscribe joins at once (subscription_policy confirm) or waits
for a moderator (moderate), who is told; a confirmed unsubscribe leaves. The
address concerned always hears the outcome: in the reply when it confirmed
itself, otherwise by a notice of its own.
"""

from __future__ import annotations

from listserv import confirm as tokens
from listserv import membership
from listserv.addresses import sub_address
from listserv.commands.context import Request, Result
from listserv.outgoing import command_mail as mail


async def run(request: Request, rest: str) -> Result:
    words = rest.split()
    if len(words) != 1:
        return Result("confirm needs the token of the confirmation message: confirm TOKEN", True)
    checked = await tokens.redeem(request.db, request.mlist, words[0], request.now)
    if checked.status == tokens.VALID:
        act = join if checked.row["action"] == "subscribe" else leave
        return await act(request, checked.row)
    return Result(refusal(request, checked), True)


def refusal(request: Request, checked: tokens.Checked) -> str:
    """Why a token did nothing, in words that say what to do next."""
    mlist = request.mlist
    if checked.status == tokens.USED:
        return f"This confirmation was used already, on {mail.when(checked.row['used_at'])}; nothing more to do."
    if checked.status == tokens.EXPIRED:
        again = f'send "{checked.row["action"]}" to {sub_address(mlist.address, "request")} for a new one'
        return f"This confirmation expired on {mail.when(checked.row['expires_at'])}; {again}. Nothing was changed."
    return (
        f"This is not a valid confirmation for {mlist.address}: the token is mistyped, altered, from another list,"
        " or too old. Nothing was changed."
    )


def _tell(request: Request, address: str, content: bytes) -> None:
    """A notice for the address concerned, unless it confirmed itself (then the reply says it)."""
    if address != request.sender:
        request.send(content, [address])


async def join(request: Request, row: dict) -> Result:
    mlist, address = request.mlist, row["address"]
    policy = mlist.settings.subscription_policy
    if policy == "closed":
        return Result(f"{mlist.address} no longer takes subscriptions by email; nothing was changed.", True)
    if await membership.member_in(request.db, mlist.id, address) is not None:
        return Result(f"{address} is already a member of {mlist.address}.", True)
    if policy == "confirm":
        member = membership.new_member(address, membership.safe_name(row["name"]))
        await membership.join_in(request.db, mlist.id, member, by=address, via="email")
        request.send(mail.welcome(mlist, address), [address])
        return Result(f"Confirmed: {address} is now a member of {mlist.address}.", True)
    if not await membership.apply_in(request.db, mlist.id, address, row["name"], row["created_at"], request.now):
        return Result(f"The request of {address} to join {mlist.address} already waits for a moderator.", True)
    _tell(request, address, mail.awaiting_approval(mlist, address))
    managers = await membership.managers_in(request.db, mlist.id)
    if managers and mlist.settings.moderator_notices:  # the list's switch for mail to moderators
        request.send(mail.approval_request(mlist, address, row["name"]), managers)
    return Result(
        f"Confirmed: the request of {address} to join {mlist.address} now waits for a moderator;"
        f" {address} will hear the outcome by mail.", True,
    )


async def leave(request: Request, row: dict) -> Result:
    mlist, address = request.mlist, row["address"]
    if not await membership.leave_in(request.db, mlist.id, address, by=address, via="email"):
        return Result(f"{address} is not a member of {mlist.address} any more; nothing to do.", True)
    _tell(request, address, mail.goodbye(mlist, address))
    return Result(f"Confirmed: {address} is no longer a member of {mlist.address}.", True)
