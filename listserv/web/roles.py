"""Who may open the moderators' and owners' pages of a list: the check every such page passes first.

A visitor not logged in is sent to /login. Anyone else who is not a
moderator or owner of the list (owner only, for the owners' pages) — a member,
a member of another list, a list that does not exist — gets the one 404 page,
exactly as for a missing page. Only then is a POST's CSRF token checked (403
when wrong), so that a stranger learns nothing from that answer either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Awaitable, Callable

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from listserv import lists, membership
from listserv.errors import BadAddress, NoSuchHeld, NoSuchList, NoSuchMember
from listserv.store import Store
from listserv.web import session
from listserv.web.login import visitor
from listserv.web.session import Visitor

MODERATING = ("moderator", "owner")  # the held queue and requests to join
OWNING = ("owner",)  # the member list and the audit log
HIDDEN = (BadAddress, NoSuchHeld, NoSuchList, NoSuchMember)  # each answers the same 404


@dataclass(frozen=True)
class Manager:
    """A moderator or owner on one of their lists' pages."""

    who: Visitor  # the logged-in visitor; their address is the actor of every audit row
    list: str  # the list's address, normalised
    role: str  # moderator or owner
    fields: dict = field(default_factory=dict)  # the POSTed form's fields ({} for a GET)


async def role_of(store: Store, list_address: str, address: str) -> tuple[str, str]:
    """(the list's normalised address, the address's role on it); ('', '') for a list that does not exist,
    (address, '') for a visitor who is not a member of it."""
    try:
        mlist = await lists.get(store, list_address)
        member = await membership.find(store, mlist.address, address)
    except (BadAddress, NoSuchList):
        return "", ""
    return mlist.address, member.role if member else ""


def number(text: str) -> int:
    """A positive number from a path or query, or the 404 page.

    >>> number("12")
    12
    """
    if not text.isdigit() or len(text) > 18 or int(text) < 1:
        raise HTTPException(404)
    return int(text)


def for_roles(roles: tuple[str, ...]) -> Callable:
    """Wrap a page handler(request, Manager): login required, role required (404), CSRF on POST (403)."""
    def wrap(handler: Callable[[Request, Manager], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def wrapped(request: Request) -> Response:
            who = await visitor(request)
            if who is None:
                return RedirectResponse("/login", status_code=303)
            list_address, role = await role_of(request.app.state.store, request.path_params["list"], who.address)
            if role not in roles:
                raise HTTPException(404)
            request.state.role = role  # base.html links the pages this role may open
            fields: dict = {}
            if request.method == "POST":
                ok, fields = await session.form_ok(request, who.csrf)
                if not ok:
                    raise HTTPException(403)
            try:
                return await handler(request, Manager(who, list_address, role, fields))
            except HIDDEN:
                raise HTTPException(404) from None
        return wrapped
    return wrap
