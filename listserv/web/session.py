"""Tokens, the session cookie and CSRF checks of the web pages.

Tokens are 32 random bytes (URL-safe text); the database keeps only their
SHA-256 (listserv.store.web_logins). A logged-in form carries its session's
CSRF token; a form shown before login (the /login form, the mailed link's
button) carries a random token that must equal the one in a cookie set with the
form (double submit). A POST whose token does not match is refused with 403.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from listserv.config import Settings

SESSION_COOKIE = "listserv_session"
FORM_COOKIE = "listserv_form"  # the double-submit token of forms shown before login
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class Visitor:
    """A logged-in member: their address and the CSRF token their forms carry."""

    address: str
    csrf: str


def new_token() -> str:
    """A fresh unguessable token (256 bits)."""
    return secrets.token_urlsafe(32)


def hashed(token: str) -> str:
    """What the database keeps of a token.

    >>> len(hashed("abc")), hashed("abc") == hashed("abc")
    (64, True)
    """
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same(given: str, expected: str) -> bool:
    """Constant-time comparison; an empty expected token matches nothing."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def secure(settings: Settings) -> bool:
    """Cookies are Secure when the public URL is https."""
    return settings.web.base_url.lower().startswith("https://")


def set_cookie(response: Response, settings: Settings, name: str, value: str, max_age: int | None) -> None:
    """A cookie as every cookie of these pages: HttpOnly, SameSite=Lax, Secure under https, whole site."""
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax",
                        secure=secure(settings))


def form_token(request: Request) -> str:
    """The double-submit token for a form shown before login: the cookie's, or a new one (set_form_cookie)."""
    return request.cookies.get(FORM_COOKIE) or new_token()


def set_form_cookie(response: Response, settings: Settings, token: str) -> None:
    set_cookie(response, settings, FORM_COOKIE, token, None)


async def form_ok(request: Request, expected: str) -> tuple[bool, dict]:
    """(whether the form's CSRF field equals expected, the form's fields)."""
    form = await request.form()
    fields = {key: value for key, value in form.items() if isinstance(value, str)}
    return same(fields.get(CSRF_FIELD, ""), expected), fields
