"""One-click unsubscribe (RFC 8058): when copies carry it, each member's token, its URL and the two headers.

A token names the list and the member and carries an HMAC-SHA256 of both
under the server's secret (listserv.store.unsubscribe_secret): the web page
checks it without a lookup, and nobody can make one for another member. It
depends on nothing but the list and the address, so a member removed and
added again has the same token as before, and the link in an old copy still
unsubscribes them: it only ever unsubscribes the person it was mailed to, who
may leave at any time anyway.

The https link comes only when base_url is https (a link scanner or a
provider must not post to plain http) or `[web] one_click_on_http` says so;
without it a copy carries the mailto form alone, as before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
import urllib.parse

from listserv.addresses import sub_address
from listserv.config import Settings
from listserv.store import Store, unsubscribe_secret

TAG_BYTES = 16  # 128 bits of the HMAC: enough that no token can be guessed
MAX_TOKEN = 1024  # longer is not one of ours; refused before any decoding
POST_VALUE = "List-Unsubscribe=One-Click"  # the List-Unsubscribe-Post header's value and the POST body (RFC 8058)
ACTOR = "one-click"  # the audit log's actor of an unsubscribe by the link of a copy
URL_SAFE = ":/?#[]@!$&'()*+,;=%"  # characters of base_url kept as they are; others (non-ASCII) percent-encoded


def enabled(settings: Settings) -> bool:
    """Whether copies carry the https link: the web pages are served and base_url is https (or allowed http).

    >>> from listserv.config import WebSettings
    >>> https = WebSettings(base_url="https://lists.example.org")
    >>> [enabled(Settings(web=web)) for web in (https, WebSettings(), WebSettings(one_click_on_http=True))]
    [True, False, True]
    >>> enabled(Settings(web=WebSettings(base_url="https://lists.example.org", enabled=False)))
    False
    """
    web = settings.web
    return web.enabled and (web.base_url.lower().startswith("https://") or web.one_click_on_http)


async def secret(store: Store) -> bytes:
    """The server's token secret, made (32 random bytes) on first use."""
    return await store.write(unsubscribe_secret.get_or_make, secrets.token_bytes(32), time.time())


def token(key: bytes, list_address: str, address: str) -> str:
    """The member's token for the list: both names, then their HMAC, base64url.

    >>> t = token(b"k" * 32, "team@example.org", "bob@example.org")
    >>> read(b"k" * 32, t), read(b"x" * 32, t)
    (('team@example.org', 'bob@example.org'), None)
    """
    named = f"{list_address}\n{address}".encode("utf-8")
    return _text(named) + "." + _text(_tag(key, named))


def read(key: bytes, given: str) -> tuple[str, str] | None:
    """(list address, member address) of a token made with key; None for anything else (forged, cut, junk)."""
    named_text, dot, tag_text = given.partition(".")
    if not dot or len(given) > MAX_TOKEN:
        return None
    try:
        named, tag = _bytes(named_text), _bytes(tag_text)
    except (binascii.Error, ValueError):
        return None
    if not hmac.compare_digest(tag, _tag(key, named)):
        return None
    list_address, _, address = named.decode("utf-8").partition("\n")
    return list_address, address


def url(settings: Settings, key: bytes, list_address: str, address: str) -> str:
    """The member's one-click URL under base_url (ASCII: anything else in base_url percent-encoded)."""
    quoted = urllib.parse.quote(token(key, list_address, address), safe="")
    base = urllib.parse.quote(settings.web.base_url.rstrip("/"), safe=URL_SAFE)
    return f"{base}/unsubscribe/{quoted}"


def headers(settings: Settings, key: bytes, list_address: str, address: str) -> list[tuple[str, str]]:
    """The List-Unsubscribe header of this member's copy, with List-Unsubscribe-Post when one-click is on; ASCII
    whatever the addresses (RFC 6068 percent-encodes a mailto's non-ASCII address).

    >>> headers(Settings(), b"k" * 32, "caf\u00e9@example.org", "bob@example.org")
    [('List-Unsubscribe', '<mailto:caf%C3%A9-request@example.org?subject=unsubscribe>')]
    """
    request = urllib.parse.quote(sub_address(list_address, "request"), safe="@+")
    mailto = f"<mailto:{request}?subject=unsubscribe>"
    if not enabled(settings):
        return [("List-Unsubscribe", mailto)]
    link = url(settings, key, list_address, address)
    return [("List-Unsubscribe", f"<{link}>, {mailto}"), ("List-Unsubscribe-Post", POST_VALUE)]


def _tag(key: bytes, named: bytes) -> bytes:
    return hmac.new(key, b"listserv one-click unsubscribe\n" + named, hashlib.sha256).digest()[:TAG_BYTES]


def _text(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _bytes(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
