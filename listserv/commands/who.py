"""The `who` command: the membership, for the list's owners and moderators only (it is confidential to the rest)."""

from __future__ import annotations

from listserv import membership
from listserv.commands.context import Request, Result
from listserv.wording import plural

MANAGERS = ("owner", "moderator")


async def run(request: Request, rest: str) -> Result:
    if request.member is None or request.member.role not in MANAGERS:
        return Result(f"Only the owners and moderators of {request.mlist.address} may see who its members are.")
    roster = await membership.roster_in(request.db, request.mlist.id)
    lines = [f"{plural(len(roster), 'member')} of {request.mlist.address}:"]
    for member in roster:
        name = f" ({member.name})" if member.name else ""
        lines.append(f"  {member.address}{name}  {member.role}, {member.delivery}")
    return Result("\n".join(lines))
