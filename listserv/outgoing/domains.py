"""Which list domains sign: `dkim keygen` for a domain of this server's lists, and the domains that cannot sign yet."""

from __future__ import annotations

from listserv import lists
from listserv.config import Settings
from listserv.errors import CannotStart, NoListAtDomain
from listserv.outgoing import keys
from listserv.outgoing.sign import finish
from listserv.store import Store

PROBE = b"From: probe@invalid\r\nSubject: probe\r\n\r\nprobe\r\n"  # what serve signs at start to try each key


async def keygen(store: Store, settings: Settings, domain: str, selector: str, force: bool) -> list[keys.Record]:
    """Make the keys of a domain that one of the lists uses; the DNS records to publish."""
    wanted = domain.strip().rstrip(".").casefold()
    if wanted not in await list_domains(store):
        raise NoListAtDomain(f"no list of this server is at {domain}: create the list first (listserv lists create)")
    return keys.generate(settings, wanted, selector, force)


async def without_keys(store: Store, settings: Settings) -> list[str]:
    """The list domains that have no key: their mail goes out unsigned. CannotStart when a domain's key
    cannot sign (unreadable, not a key): every mail of its lists would fail, so the server does not start."""
    missing = []
    for domain in await list_domains(store):
        try:
            found = keys.of_domain(settings, domain)
            finish(settings, domain, PROBE, seal=True)
        except (OSError, ValueError) as exc:
            where = keys.directory(settings) / domain
            why = " ".join(str(exc).split())  # dkimpy's reasons run over several lines
            raise CannotStart(f"cannot sign the mail of {domain} with the keys in {where}: {why}") from None
        if not found:
            missing.append(domain)
    return missing


async def list_domains(store: Store) -> list[str]:
    """Every domain of this server's lists, once, sorted."""
    return sorted({mlist.domain.casefold() for mlist in await lists.all_lists(store)})


def unsigned_warning(domains: list[str]) -> str:
    """The one line `serve` logs at start when list domains have no key.

    >>> unsigned_warning(["a.org", "b.org"])
    'no DKIM key for a.org, b.org: their mail goes out unsigned (receivers may refuse it); run: listserv dkim keygen DOMAIN'
    """
    return (f"no DKIM key for {', '.join(domains)}: their mail goes out unsigned (receivers may refuse it);"
            " run: listserv dkim keygen DOMAIN")
