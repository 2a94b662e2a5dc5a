"""The `set` command: a member changes their own delivery (regular, digest, nomail) or copies of their own posts."""

from __future__ import annotations

from listserv import membership
from listserv.commands.context import Request, Result
from listserv.settings import Setting

# What a member may set by email, and the member setting each word changes (receive_own: the older name).
KEYS = {"delivery": "delivery", "ownposts": "ownposts", **membership.MEMBER_ALIASES}
OWNPOSTS = Setting("ownposts", True, "", ("on", "off"))
USAGE = 'set takes "delivery regular|digest|nomail" or "ownposts on|off"'


async def run(request: Request, rest: str) -> Result:
    words = rest.split()
    if len(words) != 2 or words[0].casefold() not in KEYS:
        return Result(USAGE)
    key, value = KEYS[words[0].casefold()], words[1]
    if key == "ownposts":
        value = str(OWNPOSTS.parse(value) == "on")  # BadSetting names what ownposts takes
    member = await membership.change_in(request.db, request.mlist.id, request.sender, key, value,
                                         by=request.sender, via="email")
    if key == "delivery":
        return Result(f"Your delivery is now {member.delivery}.")
    own = "now get" if member.receive_own else "no longer get"
    return Result(f"You will {own} a copy of your own posts.")
