"""Host names, ports and transport URLs as the configuration writes them, parsed and checked in one place.

The configuration checks them when it is loaded and delivery parses them when
it starts, with the same rules, so a value that loads is a value that works
(and one that does not is refused before anything starts).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from urllib.parse import urlsplit

MAX_PORT = 65535
TRANSPORT_FORMS = '"smtp://HOST:PORT" or "maildir:PATH"'
# A DNS name: dot-separated labels of letters, digits, '-' and '_' (seen in real host names), no label empty.
_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def valid_host(text: str) -> bool:
    """True for a DNS name or an IPv4/IPv6 address (without brackets), as a socket accepts them.

    >>> valid_host("relay.example.org"), valid_host("::1"), valid_host("0.0.0.0"), valid_host("exa mple")
    (True, True, True, False)
    >>> valid_host(""), valid_host("a..b"), valid_host("-a.example")
    (False, False, False)
    """
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        pass
    name = text[:-1] if text.endswith(".") else text
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))


def nameserver(entry: str) -> tuple[str, int] | None:
    """A `[dns] nameservers` entry as (IP, port); None when it is neither "IP" nor "IP:PORT" ("[IPv6]:PORT").

    >>> nameserver("127.0.0.1:5353"), nameserver("192.0.2.1"), nameserver("[::1]:53"), nameserver("::1")
    (('127.0.0.1', 5353), ('192.0.2.1', 53), ('::1', 53), ('::1', 53))
    >>> nameserver("dns.example"), nameserver("127.0.0.1:0"), nameserver("127.0.0.1:99999")
    (None, None, None)
    """
    text = entry.strip()
    host, port = text, "53"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ("" if rest else "53")
    elif text.count(":") == 1:
        host, _, port = text.partition(":")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    if not port.isdigit() or not 1 <= int(port) <= MAX_PORT:
        return None
    return host, int(port)


def maildir_path(url: str) -> Path | None:
    """The directory of a "maildir:PATH" transport; None for any other transport.

    >>> maildir_path("maildir:archives/outbox"), maildir_path("smtp://127.0.0.1:25")
    (PosixPath('archives/outbox'), None)
    """
    scheme, _, rest = url.partition(":")
    return Path(rest.strip()) if scheme.lower() == "maildir" and rest.strip() and "\0" not in rest else None


def smtp_address(url: str) -> tuple[str, int] | None:
    """HOST and PORT of smtp://HOST[:PORT] (25 when left out); None when the URL is not exactly that.

    Anything more (a user, a path, a query) is refused rather than ignored.

    >>> smtp_address("smtp://[::1]:2525"), smtp_address("smtp://relay.example.org")
    (('::1', 2525), ('relay.example.org', 25))
    >>> smtp_address("smtp://host:99999"), smtp_address("smtp://user@host"), smtp_address("ftp://x")
    (None, None, None)
    """
    try:
        parts = urlsplit(url)
        port = parts.port if parts.port is not None else 25
    except ValueError:
        return None
    if parts.scheme.lower() != "smtp" or not parts.hostname or not valid_host(parts.hostname):
        return None
    if parts.username or parts.password or parts.query or parts.fragment or parts.path not in ("", "/"):
        return None
    if not 0 < port <= MAX_PORT:
        return None
    return parts.hostname, port


def transport_problem(url: str) -> str | None:
    """What a `[delivery] transport` value should have been, or None when it is usable.

    >>> transport_problem("maildir:archives/outbox") is None, transport_problem("ftp://x")
    (True, '"smtp://HOST:PORT" or "maildir:PATH"')
    """
    if maildir_path(url) is not None:
        return None
    if url.partition(":")[0].lower() == "smtp":
        return None if smtp_address(url) is not None else '"smtp://HOST:PORT"'
    return TRANSPORT_FORMS
