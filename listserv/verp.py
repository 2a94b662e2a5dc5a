"""VERP: encode a recipient into the envelope sender of its copy, and read it back from a bounce.

A copy for ann@example.com from team@example.org goes out with envelope sender
team-bounces+ann=example.com@example.org; whatever bounces comes back to that
address, and names the member without anyone having to parse the bounce.
Addresses that cannot ride in a local part safely (quotes, non-ASCII, too
long for the 64-octet limit of RFC 5321) keep the plain bounces address; their
bounces are left to the parser.
"""

from __future__ import annotations

import re

# Characters of a dot-atom local part (RFC 5322 atext and '.'), which survive every MTA unquoted.
_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
MAX_LOCAL = 64


def encode(bounces: str, recipient: str) -> str:
    """The envelope sender of recipient's copy: bounces with +LOCAL=DOMAIN added, or bounces unchanged.

    >>> encode("team-bounces@example.org", "ann@example.com")
    'team-bounces+ann=example.com@example.org'
    >>> encode("team-bounces@example.org", '"ann smith"@example.com')
    'team-bounces@example.org'
    >>> encode("team-bounces@example.org", "zoë@example.com")
    'team-bounces@example.org'
    >>> encode("team-bounces@example.org", "a" * 60 + "@example.com")
    'team-bounces@example.org'
    """
    local, at, domain = recipient.rpartition("@")
    name, at2, home = bounces.rpartition("@")
    if not (at and at2 and local and domain and name and home):
        return bounces
    if not (_ATEXT.fullmatch(local) and _ATEXT.fullmatch(domain)) or "=" in domain:
        return bounces
    verp_local = f"{name}+{local}={domain}"
    if len(verp_local) > MAX_LOCAL or ".." in verp_local:
        return bounces
    return f"{verp_local}@{home}"


def decode(extra: str) -> str | None:
    """The recipient named by the +LOCAL=DOMAIN part of a bounces address, or None if it names none.

    The domain cannot contain '=', so the last '=' separates the two even when
    the local part has one.

    >>> decode("ann=example.com")
    'ann@example.com'
    >>> decode("a=b=example.com")
    'a=b@example.com'
    >>> decode("no-equals-sign") is None, decode("=example.com") is None, decode("ann=") is None
    (True, True, True)
    """
    local, eq, domain = (extra or "").rpartition("=")
    if not eq or not local or not domain or "@" in extra:
        return None
    return f"{local}@{domain}"
