"""Fixtures for the tests through a real Postfix: the instance, and listserv behind it over LMTP.

    client --SMTP--> Postfix --LMTP--> listserv daemon --SMTP--> Postfix --SMTP--> sink (aiosmtpd)

Every test here is marked `postfix`; it is skipped, with the reason, only
where Postfix cannot run (not installed, not root).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from listserv import postfix_maps
from listserv.daemon import Daemon
from tests.conftest import free_port
from tests.e2e.helpers import make_list
from tests.postfix.instance import Postfix, available

WHY_NOT = available()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/postfix/" in str(item.fspath):
            item.add_marker(pytest.mark.postfix)
            if WHY_NOT:
                item.add_marker(pytest.mark.skip(reason=WHY_NOT))


@pytest.fixture
def postfix(sink):
    """A private Postfix on a free port relaying everything but list addresses to the sink; stopped after."""
    instance = Postfix(free_port(), sink.port)
    yield instance
    instance.stop()


@dataclass
class Front:
    """listserv behind Postfix: where clients send (Postfix's port), the daemon, the instance."""

    postfix: Postfix
    daemon: Daemon
    port: int  # Postfix's SMTP port: where members send


@pytest.fixture
async def front(postfix, smtp_settings, cli):
    """team@example.org (ann owner, bob, cy) behind Postfix; the daemon speaks LMTP and delivers to Postfix.

    The maps are those `postfix-maps --write` gives, written before Postfix
    starts (it reads relay_domains at start); Postfix's EHLO to loopback
    clients offers XVERP.
    """
    settings = replace(
        smtp_settings,
        server=replace(smtp_settings.server, lmtp=True),
        delivery=replace(smtp_settings.delivery, transport=f"smtp://127.0.0.1:{postfix.smtp_port}"),
    )
    await make_list(cli)
    daemon = Daemon(settings, tick=0.2)
    await daemon.start()
    try:
        postfix.conf.mkdir()
        postfix_maps.write(await postfix_maps.current(daemon.store, settings), postfix.conf)
        postfix.start()
        yield Front(postfix, daemon, postfix.smtp_port)
    finally:
        await daemon.stop()
