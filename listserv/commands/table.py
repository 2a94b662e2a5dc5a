"""The command words and the module that runs each; STRANGER_COMMANDS are those a non-member may use."""

from __future__ import annotations

from typing import Awaitable, Callable

from listserv.commands import confirm, get, info, search, subscribe, unsubscribe, who
from listserv.commands import help as help_command
from listserv.commands import set as set_command
from listserv.commands.context import Request, Result

Run = Callable[[Request, str], Awaitable[Result]]

COMMANDS: dict[str, Run] = {
    "help": help_command.run,
    "info": info.run,
    "subscribe": subscribe.run,
    "unsubscribe": unsubscribe.run,
    "confirm": confirm.run,
    "set": set_command.run,
    "who": who.run,
    "search": search.run,
    "get": get.run,
}

# Everything else is for members: a non-member's search, get, set or who is not run.
STRANGER_COMMANDS = frozenset({"help", "info", "subscribe", "unsubscribe", "confirm"})
