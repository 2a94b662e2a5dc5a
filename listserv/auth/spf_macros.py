"""SPF macros (RFC 7208 section 7): the %{...} in a record's domain-specs, expanded for one SMTP-time check.

Records use them to ask a per-client question of their own DNS, the common
one being `exists:%{i}._spf.%{d}`. A record with a malformed macro is a
permerror, as the RFC says, so the caller sees MacroError and ends the check.

c, r and t are defined for explanation (exp=) text only; listserv never
fetches explanations (it does not reject at SMTP time), so in a domain-spec
they are a syntax error like any other misuse, and `expand(..., explanation=True)`
serves them where they are allowed. %{p} (the client's validated name) is
"unknown", which the RFC permits: it costs DNS lookups the limit does not count.
"""

from __future__ import annotations

import ipaddress
import re
import time
import urllib.parse
from dataclasses import dataclass, field

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

DELIMITERS = ".-+,/_="
MAX_NAME = 253  # a longer expansion loses labels on the left until it fits (7.3)
EXPLANATION_ONLY = "crt"
# %{letter digits r delimiters}, %%, %_ and %-; anything else after a % is an error
_TOKEN = re.compile(r"%\{([a-zA-Z])(\d*)(r?)([.\-+,/_=]*)\}|%%|%_|%-|%|[^%]+", re.IGNORECASE)


class MacroError(ValueError):
    """A macro the RFC's grammar does not allow: the record is broken (permerror)."""


@dataclass(frozen=True)
class Context:
    """What the macros of one check can name (7.3)."""

    sender: str  # local-part@domain: MAIL FROM, or postmaster@HELO for a null one
    domain: str  # the current domain: the checked one, or an include/redirect target
    ip: Address
    helo: str = ""
    receiver: str = "unknown"  # %{r}: the host doing the check
    timestamp: int = field(default_factory=lambda: int(time.time()))  # %{t}


def expand(spec: str, context: Context, explanation: bool = False) -> str:
    """The domain-spec (or exp text) with every macro replaced; a domain longer than 253 loses left labels."""
    pieces = []
    position = 0
    for token in _TOKEN.finditer(spec):
        position = token.end()
        pieces.append(_piece(token, context, explanation))
    if position != len(spec):
        raise MacroError(f"bad macro in {spec!r}")
    result = "".join(pieces)
    return result if explanation else _fit(result)


def _piece(token: re.Match, context: Context, explanation: bool) -> str:
    """One token's text: a literal, an escape, or an expanded macro."""
    text = token.group(0)
    if text == "%%":
        return "%"
    if text == "%_":
        return " "
    if text == "%-":
        return "%20"
    if text == "%":
        raise MacroError("a lone % in a macro string")
    if token.group(1) is None:
        return text
    letter, digits, reverse, delimiters = token.groups()
    if letter.lower() in EXPLANATION_ONLY and not explanation:
        raise MacroError(f"%{{{letter}}} is for explanations only")
    value = _transform(_value(letter.lower(), context), digits, bool(reverse), delimiters or ".")
    return urllib.parse.quote(value, safe="-._~") if letter.isupper() else value


def _transform(value: str, digits: str, reverse: bool, delimiters: str) -> str:
    """Split on the delimiters, reverse if asked, keep the right-hand `digits` parts, join with dots (7.3).

    >>> _transform("a-b.c", "2", False, "-."), _transform("a.b.c", "", True, ".")
    ('b.c', 'c.b.a')
    """
    parts = re.split("[" + re.escape(delimiters) + "]", value)
    if reverse:
        parts.reverse()
    if digits:
        count = int(digits)
        if count == 0:
            raise MacroError("a macro keeping 0 parts")
        parts = parts[-count:]
    return ".".join(parts)


def _value(letter: str, context: Context) -> str:
    """What a macro letter stands for (7.3)."""
    local, _, domain = context.sender.rpartition("@")
    values = {
        "s": context.sender, "l": local or "postmaster", "o": domain, "d": context.domain,
        "i": _dotted(context.ip), "p": "unknown", "v": "in-addr" if context.ip.version == 4 else "ip6",
        "h": context.helo, "c": str(context.ip), "r": context.receiver, "t": str(context.timestamp),
    }
    if letter not in values:
        raise MacroError(f"unknown macro letter {letter}")
    return values[letter]


def _dotted(ip: Address) -> str:
    """%{i}: IPv4 as is; IPv6 as 32 dot-separated nibbles (7.3).

    >>> _dotted(ipaddress.ip_address("2001:db8::cb01"))
    '2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1'
    """
    if ip.version == 4:
        return str(ip)
    return ".".join(ip.exploded.replace(":", ""))


def _fit(name: str) -> str:
    """Drop labels on the left until the name is at most 253 characters (7.3)."""
    while len(name) > MAX_NAME and "." in name:
        name = name.partition(".")[2]
    return name
