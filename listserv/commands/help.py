"""The `help` command: every command with a one-line explanation."""

from __future__ import annotations

from listserv.addresses import sub_address
from listserv.commands.context import Request, Result
from listserv.commands.parser import MAX_COMMANDS

USAGE = (
    ("help", "this text"),
    ("info", "what the list is and how to join it"),
    ("subscribe [ADDRESS]", "join, you or ADDRESS; the address concerned is mailed a confirmation"),
    ("unsubscribe [ADDRESS]", "leave; confirmed the same way"),
    ("confirm TOKEN", "confirm a subscribe or unsubscribe (replying to the confirmation does it too)"),
    ("set delivery regular|digest|nomail", "every post, digests, or nothing while staying a member"),
    ("set ownposts on|off", "whether you get a copy of your own posts"),
    ("who", "the members (owners and moderators only)"),
    ('search QUERY', 'search the archive, e.g. search "school records" from:ann after:2024-01-01'),
    ("get N", "post number N of the archive (search shows the numbers), attached"),
)


def text(request: Request) -> str:
    """The help text for this list."""
    address = sub_address(request.mlist.address, "request")
    width = max(len(usage) for usage, _ in USAGE)
    lines = [f"Commands for {request.mlist.address}, one per line, sent to {address}:", ""]
    lines += [f"  {usage:<{width}}  {meaning}" for usage, meaning in USAGE]
    lines += [
        "",
        "The subject and the lines of the message are read until the first line that is not a command,",
        f'a signature ("-- ") or "end"; at most {MAX_COMMANDS} commands a message. Text you quote is skipped.',
        "search, get, set and who are for members only.",
    ]
    return "\n".join(lines)


async def run(request: Request, rest: str) -> Result:
    return Result(text(request), for_stranger=True)
