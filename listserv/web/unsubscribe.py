"""One-click unsubscribe (RFC 8058): the URL in a copy's List-Unsubscribe header.

The token in the path (listserv.one_click) says which member leaves which
list, so no login, cookie or CSRF token is needed: a POST whose body is
`List-Unsubscribe=One-Click` (what a mail program or provider sends) leaves
at once, answers 200 and the member gets the goodbye mail; the audit row
names `one-click` as actor. A GET, which link scanners of mail gateways make,
only shows a page whose button sends that same POST. A forged or damaged token
answers 404 like any missing page; a member who already left gets a page
saying so, and nothing else happens.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from listserv import membership, one_click
from listserv.errors import BadAddress, NoSuchList
from listserv.web.login import page

VIA = "web one-click"


async def _member(request: Request) -> tuple[str, str, bool]:
    """(list, address, whether the address is a member of the list now); 404 for a token that is not ours."""
    state = request.app.state
    if state.unsubscribe_secret is None:
        state.unsubscribe_secret = await one_click.secret(state.store)
    found = one_click.read(state.unsubscribe_secret, request.path_params["token"])
    if found is None:
        raise HTTPException(404)
    list_address, address = found
    try:
        member = await membership.find(state.store, list_address, address)
    except (NoSuchList, BadAddress):  # the list was deleted since the copy went out
        member = None
    return list_address, address, member is not None


async def confirm_page(request: Request) -> Response:
    """The link opened in a browser (or fetched by a scanner): a button, nothing changed."""
    list_address, address, is_member = await _member(request)
    context = {"visitor": None, "left": list_address, "address": address, "already": not is_member}
    return page(request, "unsubscribe.html" if is_member else "left.html", context)


async def unsubscribe(request: Request) -> Response:
    """The one-click POST (or the page's button): leave now; 400 without `List-Unsubscribe=One-Click`."""
    list_address, address, is_member = await _member(request)
    form = await request.form()
    context = {"visitor": None, "left": list_address, "address": address}
    if form.get("List-Unsubscribe") != "One-Click":
        return page(request, "unsubscribe.html", {**context, "error": True}, status=400)
    state = request.app.state
    left = is_member and await membership.leave(state.store, state.settings, list_address, address,
                                                by=one_click.ACTOR, via=VIA)
    if left:
        state.on_queued()
    return page(request, "left.html", {**context, "already": not left})


ROUTES = [
    Route("/unsubscribe/{token}", confirm_page, methods=["GET"]),
    Route("/unsubscribe/{token}", unsubscribe, methods=["POST"]),
]
