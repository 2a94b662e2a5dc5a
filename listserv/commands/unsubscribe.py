"""The `unsubscribe [ADDRESS]` command: mail a confirmation request to the member concerned, and to no one else.

Like subscribe, it tells nobody but the address's owner whether the address
is a member: a request about someone else always gets the same answer.
"""

from __future__ import annotations

from listserv import membership
from listserv.commands.context import Request, Result
from listserv.commands.subscribe import ask, for_someone_else


async def run(request: Request, rest: str) -> Result:
    mlist = request.mlist
    address = request.target(rest)
    is_member = await membership.member_in(request.db, mlist.id, address) is not None
    if address != request.sender:
        if is_member:
            await ask(request, "unsubscribe", address)
        return for_someone_else("unsubscribe", address)
    if not is_member:
        return Result(f"{address} is not a member of {mlist.address}.")
    refused = await ask(request, "unsubscribe", address)
    return refused or Result(f"A confirmation request was mailed to you at {address}; follow it to leave.")
