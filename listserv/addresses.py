"""Normalise member addresses and split a list's sub-addresses into (list, role, extra).

A list NAME@DOMAIN owns NAME@, NAME+confidential@, NAME-request@, NAME-owner@,
NAME-bounces@ (with an optional VERP suffix +LOCAL=DOM) and NAME-confirm+TOKEN@.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Collection

from email_validator import EmailNotValidError, validate_email

from listserv.errors import BadAddress

ROLES = ("post", "confidential", "request", "owner", "bounces", "confirm")
# Characters no address may hold and no shown text keeps: controls (C0, DEL, C1), format characters (bidi
# overrides), line and paragraph separators, and the lone surrogates that stand for undecodable bytes.
INVISIBLE = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
_SUFFIXES = (("-request", "request"), ("-owner", "owner"), ("-bounces", "bounces"), ("-confirm", "confirm"))


def normalise(address: str) -> str:
    """Validate an address without DNS and case-fold it, so one person is one member.

    >>> normalise("  Ann.Smith@Example.ORG ")
    'ann.smith@example.org'
    >>> normalise("not an address")
    Traceback (most recent call last):
    ...
    listserv.errors.BadAddress: bad address 'not an address': An email address must have an @-sign.
    """
    text = (address or "").strip()
    try:
        valid = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise BadAddress(f"bad address {text!r}: {exc}") from None
    return valid.normalized.casefold()


def has_control(text: str) -> bool:
    r"""True when text holds a NUL, any other control character or an invisible one (see INVISIBLE).

    >>> has_control("ann@example.org"), has_control("ann\x00@example.org"), has_control("ann\x85@example.org")
    (False, True, True)
    """
    return any(unicodedata.category(ch) in INVISIBLE for ch in text)


def try_normalise(address: str) -> str | None:
    """normalise(), or None for an unusable address (for headers written by strangers)."""
    try:
        return normalise(address)
    except BadAddress:
        return None


@dataclass(frozen=True)
class ListAddress:
    """One recipient address resolved against the list naming scheme."""

    list_address: str  # NAME@DOMAIN of the list, normalised
    role: str  # one of ROLES
    extra: str = ""  # VERP "LOCAL=DOM" for bounces, the token for confirm


def split(address: str) -> ListAddress | None:
    """Which list sub-address this is, or None when the local part is not one of ours.

    The caller still checks that the resulting list exists.

    >>> split("team-request@example.org")
    ListAddress(list_address='team@example.org', role='request', extra='')
    >>> split("team-bounces+ann=example.com@example.org")
    ListAddress(list_address='team@example.org', role='bounces', extra='ann=example.com')
    >>> split("Team+Confidential@Example.org")
    ListAddress(list_address='team@example.org', role='confidential', extra='')
    >>> split("team@example.org")
    ListAddress(list_address='team@example.org', role='post', extra='')
    """
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        return None
    local, domain = local.casefold(), domain.casefold()
    base, plus, detail = local.partition("+")
    for suffix, role in _SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix):
            return ListAddress(f"{base[: -len(suffix)]}@{domain}", role, detail if plus else "")
    if plus and detail == "confidential":
        return ListAddress(f"{base}@{domain}", "confidential")
    if plus:
        return None
    return ListAddress(f"{base}@{domain}", "post")


def candidates(address: str) -> list[ListAddress]:
    """Every way to read an address, most specific first: a list may itself be named `x-owner`.

    >>> [c.role for c in candidates("a-owner@example.org")]
    ['owner', 'post']
    """
    first = split(address)
    if first is None:
        return []
    found = [first]
    if first.role != "post":
        local, _, domain = address.strip().casefold().rpartition("@")
        if "+" not in local:
            found.append(ListAddress(f"{local}@{domain}", "post"))
    return found


def owning_list(address: str, list_addresses: Collection[str]) -> str | None:
    """The list among list_addresses that address is one of the addresses of (any sub-address), or None.

    >>> owning_list("Team-Bounces+ann=example.com@example.org", {"team@example.org"})
    'team@example.org'
    >>> lists = {"team@example.org"}
    >>> owning_list("team-confirm+abc@example.org", lists), owning_list("a@example.org", lists)
    ('team@example.org', None)
    """
    for candidate in candidates(address):
        if candidate.list_address in list_addresses:
            return candidate.list_address
    return None


def sub_address(list_address: str, role: str, extra: str = "") -> str:
    """The address of a list's role, the inverse of split().

    >>> sub_address("team@example.org", "bounces", "ann=example.com")
    'team-bounces+ann=example.com@example.org'
    """
    name, _, domain = list_address.rpartition("@")
    local = {"post": name, "confidential": f"{name}+confidential"}.get(role, f"{name}-{role}")
    if extra:
        local = f"{local}+{extra}"
    return f"{local}@{domain}"
