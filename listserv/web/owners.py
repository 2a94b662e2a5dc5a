"""The owners' pages of a list: its members (searchable, a page at a time) and its audit log, newest first.

Owners only (listserv.web.roles); a moderator gets the 404 page. The members
come from membership.roster_page, which reads one page whatever the list's
size; the audit log from listserv.audit.entries, the operation `listserv audit
ls` uses, paged by entry id so that new entries do not shift the pages.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from listserv import audit, membership
from listserv.web.login import page
from listserv.web.roles import OWNING, Manager, for_roles, number

MEMBERS_PER_PAGE = 50
ENTRIES_PER_PAGE = 50


@for_roles(OWNING)
async def members(request: Request, m: Manager) -> Response:
    """The members by address, filtered by ?q= (part of an address or name), 50 a page (?page=N)."""
    query = request.query_params.get("q", "").strip()
    page_number = number(request.query_params.get("page", "1"))
    found, more = await membership.roster_page(request.app.state.store, m.list, query, page_number, MEMBERS_PER_PAGE)
    rows = [{**member.as_json(), "joined_at": joined} for member, joined in found]
    return page(request, "members.html", {"visitor": m.who, "list": m.list, "members": rows, "filter": query,
                                           "page": page_number, "more": more})


@for_roles(OWNING)
async def audit_log(request: Request, m: Manager) -> Response:
    """The list's audit entries, newest first, 50 a page (?before=ID for older ones)."""
    before = request.query_params.get("before")
    found = await audit.entries(request.app.state.store, m.list, ENTRIES_PER_PAGE + 1,
                                before=number(before) if before is not None else None)
    shown = found[:ENTRIES_PER_PAGE]
    older = shown[-1]["id"] if len(found) > ENTRIES_PER_PAGE else None
    return page(request, "audit.html", {"visitor": m.who, "list": m.list, "entries": shown, "older": older,
                                         "newest": before is None})


ROUTES = [
    Route("/lists/{list}/members", members, methods=["GET"]),
    Route("/lists/{list}/audit", audit_log, methods=["GET"]),
]
