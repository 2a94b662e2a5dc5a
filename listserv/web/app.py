"""The Starlette application of the web pages: its routes, security headers and the one 404 page.

Every answer carries headers that keep a page from being framed, sniffed,
cached or leaking its URL (which may hold a login token or search words) to
another site; the pages need no script, so the policy allows none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from listserv import timefmt
from listserv.config import Settings
from listserv.store import Store
from listserv.web import archive, download, held, login, member, owners, quoting, reply, unsubscribe
from listserv.web.ratelimit import Limiter

HERE = Path(__file__).resolve().parent
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self';"
     b" frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),  # pages of confidential lists stay out of shared and browser caches
]
LINKS_PER_ADDRESS = (3, 900.0)  # login links mailed to one address per 15 minutes
LINKS_PER_CLIENT = (10, 900.0)  # login forms sent from one client address per 15 minutes


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS to every response, error pages and static files included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def build(store: Store, settings: Settings, on_queued: Callable[[], None], clock: Callable[[], float]) -> ASGIApp:
    """The application, wired with the daemon's store and settings; on_queued wakes delivery after a mail."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["when"] = timefmt.in_utc
    templates.env.filters["size"] = download.size_label
    templates.env.filters["download_name"] = download.name_of
    templates.env.globals["quote_blocks"] = quoting.blocks
    templates.env.globals["mailto"] = reply.mailto
    app = Starlette(
        routes=[*login.ROUTES, *archive.ROUTES, *download.ROUTES, *held.ROUTES, *owners.ROUTES, *member.ROUTES,
                *unsubscribe.ROUTES,
                Mount("/static", StaticFiles(directory=HERE / "static"), name="static")],
        exception_handlers={HTTPException: _error_page},
    )
    app.state.store = store
    app.state.settings = settings
    app.state.on_queued = on_queued
    app.state.clock = clock
    app.state.templates = templates
    app.state.per_address = Limiter(*LINKS_PER_ADDRESS, clock)
    app.state.per_client = Limiter(*LINKS_PER_CLIENT, clock)
    app.state.unsubscribe_secret = None  # read from the database on the first one-click request
    return SecurityHeaders(app)


async def _error_page(request: Request, exc: HTTPException) -> Response:
    """One page per status, the same whatever the reason: a hidden page looks exactly like a missing one."""
    status = exc.status_code if exc.status_code in (403, 404, 405, 429) else 404
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"status": status, "visitor": None}, status_code=status
    )
