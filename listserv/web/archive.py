"""The archive pages: the member's lists, a list's threads, a thread, a post and search.

Members only: a visitor not logged in is sent to /login, whatever the path.
A list the visitor is not a member of, a post of another list, a confidential
post they are not entitled to and a number that does not exist all answer the
same 404. What a member sees, and the audit row of every confidential post
shown, come from the operations `archive show/thread/search --as` use.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from listserv import membership
from listserv.archive import listing, show
from listserv.errors import BadAddress, BadQuery, NoSuchList, NoSuchMember, NoSuchPost, NoSuchThread, NotAllowed, UsageError
from listserv.web import roles
from listserv.web.login import page, visitor
from listserv.web.session import Visitor

HIDDEN = (BadAddress, NoSuchList, NoSuchMember, NoSuchPost, NoSuchThread, NotAllowed)  # each answers the same 404
SEARCH_RESULTS = 50
THREAD_TEXTS = 200  # posts of a thread page shown whole; later ones are listed by subject, linked to their page
THREAD_DEPTH = 8  # indentation levels of a thread page; deeper replies line up with the eighth (a phone is narrow)


def marked(snippet: str) -> Markup:
    """A search snippet escaped, with its **matches** as <mark>.

    >>> str(marked("a **<b>** c"))
    'a <mark>&lt;b&gt;</mark> c'
    """
    return Markup(re.sub(r"\*\*(.+?)\*\*", r"<mark>\1</mark>", str(escape(snippet))))


def number(text: str) -> int:
    """A number from a path or query (an archive id, a cursor); anything else answers 404."""
    if not text.isdigit() or len(text) > 18:
        raise HTTPException(404)
    return int(text)


def members_only(handler):
    """Wrap a page: login required; any hidden or missing thing answers 404."""
    async def wrapped(request: Request) -> Response:
        who = await visitor(request)
        if who is None:
            return RedirectResponse("/login", status_code=303)
        list_address = request.path_params.get("list", "")
        _, request.state.role = await roles.role_of(request.app.state.store, list_address, who.address)  # nav links
        try:
            return await handler(request, who, list_address)
        except HIDDEN:
            raise HTTPException(404) from None
    return wrapped


async def home(request: Request) -> Response:
    """The member's lists; the login form for a visitor not logged in."""
    who = await visitor(request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    joined = await membership.lists_of(request.app.state.store, who.address)
    return page(request, "home.html", {"visitor": who, "lists": joined})


@members_only
async def threads(request: Request, who: Visitor, list_address: str) -> Response:
    """The list's threads newest first, a page at a time: ?before=N / ?after=N hold the keyset cursor."""
    cursors = {key: number(request.query_params[key]) for key in ("before", "after") if key in request.query_params}
    found = await listing.threads(request.app.state.store, list_address, who.address, **cursors)
    context = {"visitor": who, "list": list_address.casefold(), "paged": bool(cursors), **found}
    return page(request, "threads.html", context)


@members_only
async def thread(request: Request, who: Visitor, list_address: str) -> Response:
    """A thread on one page: posts indented by reply depth, shown whole (up to THREAD_TEXTS), quotes folded."""
    found = await show.thread(request.app.state.store, number(request.path_params["id"]), as_address=who.address,
                              list_address=list_address, texts=THREAD_TEXTS)
    context = {"visitor": who, "list": list_address.casefold(), "thread": found, "max_depth": THREAD_DEPTH}
    return page(request, "thread.html", context)


@members_only
async def message(request: Request, who: Visitor, list_address: str) -> Response:
    found = await show.post(request.app.state.store, number(request.path_params["id"]), as_address=who.address,
                            list_address=list_address)
    return page(request, "message.html", {"visitor": who, "list": list_address.casefold(), "post": found})


@members_only
async def search(request: Request, who: Visitor, list_address: str) -> Response:
    """Search with the archive query language; a bad query shows its one-line error (status 400)."""
    query = request.query_params.get("q", "")
    context = {"visitor": who, "list": list_address.casefold(), "q": query, "results": [], "error": ""}
    store = request.app.state.store
    await membership.get(store, list_address, who.address)  # a non-member learns nothing, not even query errors
    if not query.strip():
        return page(request, "search.html", context)
    try:
        found = await show.find(store, list_address, query, limit=SEARCH_RESULTS, as_address=who.address)
    except (BadQuery, UsageError) as exc:
        return page(request, "search.html", {**context, "error": str(exc)}, status=400)
    results = [{**row, "snippet": marked(row["snippet"])} for row in found]
    return page(request, "search.html", {**context, "results": results})


ROUTES = [
    Route("/", home, methods=["GET"]),
    Route("/lists/{list}/", threads, methods=["GET"]),
    Route("/lists/{list}/threads/{id}", thread, methods=["GET"]),
    Route("/lists/{list}/messages/{id}", message, methods=["GET"]),
    Route("/lists/{list}/search", search, methods=["GET"]),
]
