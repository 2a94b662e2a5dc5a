"""SPF (RFC 7208) for a client that connects directly: may this IP send mail for the MAIL FROM (or HELO) domain?

Why not pyspf: it asks DNS synchronously through module-global lookup
functions (its own or dnspython's default resolver), so it would block the
pipeline's loop on the network and ignore `[dns] nameservers` unless patched
globally. This is the subset mail really uses, on listserv.resolver (async,
TTL cache, the configured servers): ip4, ip6, a, mx, include, exists,
redirect, all, ptr (deprecated, 5.5, but still published), with the
10-lookup limit (4.6.4) and macros (7, listserv.auth.spf_macros).

Results are RFC 7208's words. Of them DMARC reads only pass (aligned, it
authenticates); temperror is "unknown", which holds nothing.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING

from listserv.auth import spf_macros

if TYPE_CHECKING:
    # Only a type here: the daemon imports this module through the pipeline package and outgoing mail but never
    # looks names up, and dnspython costs a process 11 MB resident (bench/README.md, memory).
    from listserv.resolver import Resolver

PASS, FAIL, SOFTFAIL, NEUTRAL = "pass", "fail", "softfail", "neutral"
NONE, PERMERROR, TEMPERROR = "none", "permerror", "temperror"
QUALIFIERS = {"+": PASS, "-": FAIL, "~": SOFTFAIL, "?": NEUTRAL}
MAX_LOOKUPS = 10  # mechanisms and modifiers that ask DNS, per check (RFC 7208 4.6.4)
MAX_VOID = 2  # lookups answering nothing before the check is a permerror (4.6.4)
MAX_MX = 10  # exchanges of one mx mechanism looked up (4.6.4)
MAX_PTR = 10  # names of one ptr answer checked (4.6.4)

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class _PermError(Exception):
    """The record is broken or needs too many lookups: the check ends as permerror."""


class _TempError(Exception):
    """DNS could not answer: the check ends as temperror."""


@dataclass
class _Check:
    """One check_host: who is sending, from where, and what it has spent of its DNS lookups."""

    resolver: Resolver
    ip: Address
    sender: str
    helo: str = ""
    lookups: int = 0
    void: int = 0

    def spend(self) -> None:
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            raise _PermError("more than 10 DNS lookups")


async def of_session(resolver: Resolver, peer: str, mail_from: str, helo: str) -> tuple[str, str]:
    """(the SPF result, the domain checked) for an SMTP session: MAIL FROM's domain, HELO's when it is null."""
    ip = _ip_of_peer(peer)
    address = mail_from.strip().strip("<>")  # intake keeps a null MAIL FROM as "<>"
    domain = address.rpartition("@")[2] if address else helo
    domain = domain.lower().rstrip(".")
    if ip is None or not domain or "." not in domain:
        return NONE, domain
    sender = address if "@" in address else f"postmaster@{domain}"
    return await check_host(resolver, ip, domain, sender, helo), domain


async def check_host(resolver: Resolver, ip: Address, domain: str, sender: str = "", helo: str = "") -> str:
    """The SPF result of ip sending for domain (RFC 7208 4); sender and helo are what macros name."""
    try:
        return await _evaluate(_Check(resolver, ip, sender or f"postmaster@{domain}", helo), domain)
    except (_PermError, spf_macros.MacroError):
        return PERMERROR
    except _TempError:
        return TEMPERROR


async def _evaluate(check: _Check, domain: str) -> str:
    """The result of one domain's record; NONE when it publishes none."""
    record = await _record(check.resolver, domain)
    if record is None:
        return NONE
    terms = record.split()[1:]
    redirect = None
    for term in terms:
        name, sep, value = term.partition("=")
        if sep and name.isalpha() and ":" not in name:
            if name.lower() == "redirect":
                redirect = value
            continue
        result = await _mechanism(check, domain, term)
        if result is not None:
            return result
    if redirect is None:
        return NEUTRAL
    check.spend()
    target = _target(check, redirect, domain)
    result = await _evaluate(check, target) if target else NONE
    if result == NONE:
        raise _PermError("redirect to a domain without SPF")
    return result


async def _record(resolver: Resolver, domain: str) -> str | None:
    """The domain's one SPF record; None when it has none; several is a permerror (4.5)."""
    records = await resolver.txt(domain)
    if records is None:
        raise _TempError(domain)
    found = [text for text in records if text.lower() == "v=spf1" or text.lower().startswith("v=spf1 ")]
    if len(found) > 1:
        raise _PermError("several SPF records")
    return found[0] if found else None


async def _mechanism(check: _Check, domain: str, term: str) -> str | None:
    """The qualifier's result when the mechanism matches ip, else None."""
    qualifier = QUALIFIERS.get(term[:1])
    body = term[1:] if qualifier else term
    name, argument, cidr = _split(body)
    matched = await _matches(check, domain, name.lower(), argument, cidr)
    return (qualifier or PASS) if matched else None


def _split(body: str) -> tuple[str, str, str]:
    """(mechanism name, ':' argument, '/' cidr) of a term without its qualifier.

    >>> _split("ip4:192.0.2.0/24"), _split("a/24"), _split("mx:example.org/24//64")
    (('ip4', '192.0.2.0/24', ''), ('a', '', '/24'), ('mx', 'example.org', '/24//64'))
    >>> _split("a:%{l/}.example/24")
    ('a', '%{l/}.example', '/24')
    """
    name, colon, rest = body.partition(":")
    if colon and name.lower() not in ("ip4", "ip6"):
        macros_end = rest.rfind("}") + 1  # a macro's delimiters may include '/': the cidr comes after them
        argument, slash, cidr = rest[macros_end:].partition("/")
        return name, rest[:macros_end] + argument, slash + cidr
    if colon:
        return name, rest, ""
    name, slash, cidr = body.partition("/")
    return name, "", slash + cidr


async def _matches(check: _Check, domain: str, name: str, argument: str, cidr: str) -> bool:
    """Whether one mechanism (5.1-5.7) matches the client; an unknown mechanism is a permerror."""
    ip = check.ip
    if name == "all":
        return True
    if name in ("ip4", "ip6"):
        return _in_network(ip, argument, name)
    if name not in ("a", "mx", "include", "exists", "ptr"):
        raise _PermError(f"unknown mechanism {name}")
    check.spend()
    target = _target(check, argument, domain)
    if not target:
        return False
    if name == "include":
        return await _included(check, target)
    if name == "exists":
        return bool(await _answer(check, target, "A"))
    if name == "ptr":
        return await _ptr(check, target)
    hosts = [target] if name == "a" else await _exchanges(check, target)
    for host in hosts:
        found = await _answer(check, host, _type(ip))
        if any(_in_network(ip, address + _prefix(cidr, ip), "") for address in found):
            return True
    return False


async def _ptr(check: _Check, target: str) -> bool:
    """ptr (5.5): a name the client's IP points back to, which points forward to that IP, is target or under it.

    DNS trouble here is no match, not a temperror, as 5.5 says.
    """
    names = await check.resolver.ptr(str(check.ip)) or ()
    for name in names[:MAX_PTR]:
        name = name.lower().rstrip(".")
        if name != target and not name.endswith("." + target):
            continue
        addresses = await check.resolver.lookup(name, _type(check.ip)) or ()
        if any(_same_address(address, check.ip) for address in addresses):
            return True
    return False


def _same_address(text: str, ip: Address) -> bool:
    try:
        return ipaddress.ip_address(text) == ip
    except ValueError:
        return False


async def _included(check: _Check, target: str) -> bool:
    """include: matches when the included record passes (5.2); its none is a permerror."""
    result = await _evaluate(check, target)
    if result in (NONE, PERMERROR):
        raise _PermError("include of a domain without SPF")
    if result == TEMPERROR:
        raise _TempError(target)
    return result == PASS


async def _exchanges(check: _Check, domain: str) -> list[str]:
    """The MX hosts of domain, at most MAX_MX (4.6.4)."""
    records = await _answer(check, domain, "MX")
    if len(records) > MAX_MX:
        raise _PermError("more than 10 MX records")
    return [record.split()[-1].rstrip(".") for record in records]


async def _answer(check: _Check, name: str, rdtype: str) -> tuple:
    """The records, counting void answers (4.6.4); DNS failure is a temperror."""
    records = await check.resolver.lookup(name, rdtype)
    if records is None:
        raise _TempError(name)
    if not records:
        check.void += 1
        if check.void > MAX_VOID:
            raise _PermError("more than 2 void lookups")
    return records


def _target(check: _Check, argument: str, domain: str) -> str:
    """The domain a mechanism names: its argument, macros expanded, or the current domain."""
    if not argument:
        return domain.lower().rstrip(".")
    context = spf_macros.Context(check.sender, domain, check.ip, check.helo)
    return spf_macros.expand(argument, context).lower().rstrip(".")


def _type(ip: Address) -> str:
    return "A" if ip.version == 4 else "AAAA"


def _prefix(cidr: str, ip: Address) -> str:
    """The prefix length of a/mx's dual cidr ("/24//64") for ip's family, as '/N'.

    >>> _prefix("/24//64", ipaddress.ip_address("192.0.2.1")), _prefix("//64", ipaddress.ip_address("::1"))
    ('/24', '/64')
    """
    four, _, six = cidr.partition("//")
    chosen = four if ip.version == 4 else ("/" + six if six else "")
    return chosen if chosen.startswith("/") else ""


def _in_network(ip: Address, network: str, family: str) -> bool:
    """ip is in network (ip4:/ip6: argument or an address with a prefix); a malformed one is a permerror."""
    try:
        found = ipaddress.ip_network(network, strict=False)
    except ValueError:
        raise _PermError(f"bad network {network}") from None
    if family and found.version != (4 if family == "ip4" else 6):
        raise _PermError(f"bad network {network}")
    return found.version == ip.version and ip in found


def _ip_of_peer(peer: str) -> Address | None:
    """The IP of intake's "ip:port" (IPv6 too); None for anything else.

    >>> _ip_of_peer("192.0.2.1:2525"), _ip_of_peer("::1:2525"), _ip_of_peer("unix")
    (IPv4Address('192.0.2.1'), IPv6Address('::1'), None)
    """
    host = peer.rpartition(":")[0] if ":" in peer else peer
    try:
        found = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return found.ipv4_mapped or found if found.version == 6 else found
