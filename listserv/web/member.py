"""A member's own settings for one list: delivery, copies of their own posts, and leaving the list.

Each change is a POST carrying the session's CSRF token and goes through the
operations the `set` email command and `members set` use (listserv.membership,
audited with the member as actor, "web" as the path). Leaving asks first: the
settings page links to a page whose one button POSTs, and the member gets the
goodbye mail a confirmed email `unsubscribe` sends. A list the visitor is not
a member of answers 404, like the archive pages.
"""

from __future__ import annotations

import urllib.parse

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from listserv import membership
from listserv.errors import BadSetting
from listserv.store.members import Member
from listserv.web import session
from listserv.web.archive import members_only
from listserv.web.login import page
from listserv.web.session import Visitor

VIA = "web"  # the audit detail's path of every change made here


def _context(who: Visitor, list_address: str, member: Member, **more) -> dict:
    return {"visitor": who, "list": list_address.casefold(), "member": member, "deliveries": membership.DELIVERIES,
            "error": "", "saved": False, **more}


@members_only
async def settings_page(request: Request, who: Visitor, list_address: str) -> Response:
    member = await membership.get(request.app.state.store, list_address, who.address)
    saved = request.query_params.get("saved") == "1"
    return page(request, "settings.html", _context(who, list_address, member, saved=saved))


@members_only
async def change(request: Request, who: Visitor, list_address: str) -> Response:
    """Save what differs from the member's settings now; a value not offered answers 400 and changes nothing."""
    store = request.app.state.store
    member = await membership.get(store, list_address, who.address)  # a non-member: 404 before the form is read
    ok, fields = await session.form_ok(request, who.csrf)
    if not ok:
        raise HTTPException(403)
    wanted = {"delivery": fields.get("delivery", member.delivery),
              "ownposts": fields.get("ownposts", "on" if member.receive_own else "off")}
    try:
        for key, value in wanted.items():
            membership.parse_setting(key, value)  # all checked before any is saved
    except BadSetting as exc:
        return page(request, "settings.html", _context(who, list_address, member, error=str(exc)), status=400)
    now = {"delivery": member.delivery, "ownposts": member.receive_own}
    for key, value in wanted.items():
        if membership.parse_setting(key, value) != now[key]:
            await membership.set_setting(store, list_address, who.address, key, value, by=who.address, via=VIA)
    return RedirectResponse(f"/lists/{urllib.parse.quote(list_address.casefold())}/settings?saved=1", status_code=303)


@members_only
async def leave_page(request: Request, who: Visitor, list_address: str) -> Response:
    """The question, with one button; fetching it changes nothing."""
    member = await membership.get(request.app.state.store, list_address, who.address)
    return page(request, "leave.html", _context(who, list_address, member))


@members_only
async def leave(request: Request, who: Visitor, list_address: str) -> Response:
    """The button: leave the list, get the goodbye mail."""
    state = request.app.state
    await membership.get(state.store, list_address, who.address)
    ok, _ = await session.form_ok(request, who.csrf)
    if not ok:
        raise HTTPException(403)
    left = await membership.leave(state.store, state.settings, list_address, who.address, by=who.address, via=VIA)
    if left:
        state.on_queued()
    # Leaving ends the member's sessions (listserv.store.members.remove): the page is shown as to a visitor.
    return page(request, "left.html", {"visitor": None, "left": list_address.casefold(), "already": not left})


ROUTES = [
    Route("/lists/{list}/settings", settings_page, methods=["GET"]),
    Route("/lists/{list}/settings", change, methods=["POST"]),
    Route("/lists/{list}/leave", leave_page, methods=["GET"]),
    Route("/lists/{list}/leave", leave, methods=["POST"]),
]
