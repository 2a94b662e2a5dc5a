"""Fixtures for the web pages: the real daemon serving HTTP on a free port, a list with an archive, and a
browser-like httpx client that logs in through the mailed link.

The archive is the confidential tests' list (tests/confidential/conftest.py):
archive:1 is a confidential post, archive:2 an ordinary one; a second list has
a member who belongs to nothing of the first.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass, replace
from email import policy

import httpx
import pytest

from listserv import lists
from listserv.daemon import Daemon
from listserv.store import members
from tests.conftest import free_port
from tests.confidential.conftest import compose, secret, submit, team  # noqa: F401 (fixtures used here)

OTHER = "other@example.org"
OUTSIDER = "olive@example.org"  # a member of OTHER only
LOGIN_SUBJECT = "Your link to log in to the list archive"


@dataclass
class Site:
    """The running daemon's web pages and the sink that receives its mail."""

    daemon: Daemon
    sink: object
    base: str

    def client(self) -> httpx.AsyncClient:
        """A client that keeps cookies like a browser; redirects are not followed, so tests see them."""
        return httpx.AsyncClient(base_url=self.base, timeout=10)

    def login_links(self, address: str) -> list[str]:
        """Every login URL mailed to address so far, oldest first."""
        links = []
        for raw in self.sink.copies_for(address):
            msg = email.message_from_bytes(raw, policy=policy.default)
            if msg["Subject"] == LOGIN_SUBJECT:
                links += re.findall(r"http://\S+/login/\S+", msg.get_content())
        return links

    async def mailed_link(self, client: httpx.AsyncClient, address: str) -> str:
        """Ask /login for a link to address and wait for the mail; the link's path."""
        before = len(self.login_links(address))
        await ask_for_link(client, address)
        await self.sink.wait_for(lambda: len(self.login_links(address)) > before)
        return httpx.URL(self.login_links(address)[-1]).path

    async def login(self, client: httpx.AsyncClient, address: str) -> None:
        """The whole login: ask, open the mailed link, press its button."""
        path = await self.mailed_link(client, address)
        page = await client.get(path)
        pressed = await client.post(path, data={"csrf": csrf_of(page.text)})
        assert pressed.status_code == 303, pressed.text


def csrf_of(html: str) -> str:
    """The CSRF token of the (first) form of a page."""
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


async def ask_for_link(client: httpx.AsyncClient, address: str) -> httpx.Response:
    form = await client.get("/login")
    return await client.post("/login", data={"address": address, "csrf": csrf_of(form.text)})


@pytest.fixture
def web_settings(smtp_settings):
    """smtp_settings with the web pages on a free port, base_url pointing at it."""
    port = free_port()
    web = replace(smtp_settings.web, enabled=True, port=port, base_url=f"http://127.0.0.1:{port}")
    return replace(smtp_settings, web=web)


@pytest.fixture
async def archive(store, team, submit):
    """archive:1 confidential (secret words), archive:2 ordinary; and a second list with OUTSIDER."""
    await submit(secret("c1@example.org"))
    await submit(compose("Memo template", "A public memo template.\n", "o1@example.org"))
    other = await lists.create(store, OTHER)
    await store.write(members.add, other.id, {"address": OUTSIDER})
    return team


@pytest.fixture
async def site(web_settings, sink, archive):
    """The real daemon (SMTP, pipeline, delivery and web) over the archive, delivering to the sink."""
    daemon = Daemon(web_settings)
    await daemon.start()
    yield Site(daemon, sink, f"http://127.0.0.1:{daemon.web.port}")
    await daemon.stop()
