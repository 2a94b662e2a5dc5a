"""The `info` command: what the list is, how to post and join, and a member's own settings."""

from __future__ import annotations

from listserv.addresses import sub_address
from listserv.commands.context import Request, Result

POLICIES = {
    "confirm": "send \"subscribe\" to {request}; you join once you confirm from your address.",
    "moderate": "send \"subscribe\" to {request}; once you confirm from your address, a moderator decides.",
    "closed": "the list's owners add members; write to {owner}.",
}


async def run(request: Request, rest: str) -> Result:
    mlist = request.mlist
    where = {"request": sub_address(mlist.address, "request"), "owner": sub_address(mlist.address, "owner")}
    lines = [f"{mlist.address}: {mlist.description}" if mlist.description else mlist.address, ""]
    lines += [
        f"Only members may post, by writing to {mlist.address}.",
        "To join: " + POLICIES[mlist.settings.subscription_policy].format(**where),
        f"The list's owners: {where['owner']}",
    ]
    if request.member is not None:
        member = request.member
        own = "on" if member.receive_own else "off"
        lines += ["", f"You are a member ({member.role}): delivery {member.delivery}, ownposts {own}."]
    return Result("\n".join(lines), for_stranger=True)
