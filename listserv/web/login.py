"""Logging in by a mailed link: /login, the link's page with its one button, /logout.

/login answers the same page whether or not the address belongs to a list
(no membership oracle); only a member gets mail. The mailed link only shows a
button: a link scanner that fetches it uses nothing up, and only the button's
POST opens a session. Links live 15 minutes and work once.
"""

from __future__ import annotations

import urllib.parse

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from listserv import membership, outgoing
from listserv.addresses import normalise
from listserv.errors import BadAddress
from listserv.outgoing import login_mail
from listserv.outgoing.login_mail import LINK_MINUTES
from listserv.store import web_logins
from listserv.web import session
from listserv.web.session import SESSION_COOKIE, Visitor


async def visitor(request: Request) -> Visitor | None:
    """The logged-in member of this request, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    state = request.app.state
    row = await web_logins.session(state.store.db, session.hashed(token), state.clock())
    return Visitor(row["address"], row["csrf"]) if row else None


def page(request: Request, name: str, context: dict, status: int = 200, form_token: str = "") -> Response:
    """A template rendered; form_token (a form shown before login) is also set as the double-submit cookie."""
    response = request.app.state.templates.TemplateResponse(request, name, context, status_code=status)
    if form_token:
        session.set_form_cookie(response, request.app.state.settings, form_token)
    return response


async def login_form(request: Request) -> Response:
    token = session.form_token(request)
    return page(request, "login.html", {"visitor": await visitor(request), "csrf": token}, form_token=token)


async def ask_for_link(request: Request) -> Response:
    """Mail a link if the address is a member somewhere; answer the same page either way (rate-limited)."""
    ok, fields = await session.form_ok(request, request.cookies.get(session.FORM_COOKIE, ""))
    if not ok:
        raise HTTPException(403)
    state = request.app.state
    address = _normalised(fields.get("address", ""))
    client = request.client.host if request.client else ""
    if not state.per_client.allow(client) or not state.per_address.allow(address or "?"):
        raise HTTPException(429)
    if address:
        await _mail_link(request, address)
    return page(request, "login_sent.html", {"visitor": None})


def _normalised(address: str) -> str:
    try:
        return normalise(address.strip())
    except BadAddress:
        return ""


async def _mail_link(request: Request, address: str) -> None:
    """Queue the login mail (signed, through listserv.outgoing) from the member's first list."""
    state = request.app.state
    joined = await membership.lists_of(state.store, address)
    if not joined:
        return
    token, now = session.new_token(), state.clock()
    url = state.settings.web.base_url.rstrip("/") + "/login/" + urllib.parse.quote(token)
    content = login_mail.link_mail(joined[0], address, url)

    async def job(db) -> None:
        await web_logins.add_link(db, session.hashed(token), address, now, now + LINK_MINUTES * 60)
        await outgoing.queue(db, state.settings, joined[0], content, [address])

    await state.store.write(job)
    state.on_queued()


async def link_page(request: Request) -> Response:
    """The mailed link: a page with one button (fetching it changes nothing); an unusable link says so."""
    state = request.app.state
    token = request.path_params["token"]
    usable = await web_logins.link_address(state.store.db, session.hashed(token), state.clock()) is not None
    if not usable:
        return page(request, "login_invalid.html", {"visitor": None}, status=410)
    csrf = session.form_token(request)
    return page(request, "login_confirm.html", {"visitor": None, "csrf": csrf, "token": token}, form_token=csrf)


async def use_link(request: Request) -> Response:
    """The button: use the link up, open a session, set its cookie, go to the member's lists."""
    ok, _ = await session.form_ok(request, request.cookies.get(session.FORM_COOKIE, ""))
    if not ok:
        raise HTTPException(403)
    state = request.app.state
    now = state.clock()
    link_hash = session.hashed(request.path_params["token"])
    cookie, csrf = session.new_token(), session.new_token()
    days = state.settings.web.session_days

    async def job(db) -> str | None:
        address = await web_logins.use_link(db, link_hash, now)
        if address is not None:
            await web_logins.add_session(db, session.hashed(cookie), address, csrf, now, now + days * 86400)
        return address

    if await state.store.write(job) is None:
        return page(request, "login_invalid.html", {"visitor": None}, status=410)
    response = RedirectResponse("/", status_code=303)
    session.set_cookie(response, state.settings, SESSION_COOKIE, cookie, days * 86400)
    return response


async def logout(request: Request) -> Response:
    """End this session (its CSRF token required, so another site cannot log a member out)."""
    who = await visitor(request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    ok, _ = await session.form_ok(request, who.csrf)
    if not ok:
        raise HTTPException(403)
    state = request.app.state
    await state.store.write(web_logins.end_session, session.hashed(request.cookies[SESSION_COOKIE]))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=session.secure(state.settings))
    return response


ROUTES = [
    Route("/login", login_form, methods=["GET"]),
    Route("/login", ask_for_link, methods=["POST"]),
    Route("/login/{token}", link_page, methods=["GET"]),
    Route("/login/{token}", use_link, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
