"""Write the README's screenshot: a demonstration list's threads as a member sees them in headless Chromium.

    python -m tests.browser.screenshots [DIR]     (default DIR: docs/screenshots of this repository)

Run by hand when the pages' look changes, then commit the PNG. Everything is
real and lives in a temporary directory: the daemon with the web pages on a
free port, the posts put through the pipeline, a sink for the login mail and
the loopback DNS server of the tests. The posts are invented: no real case.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from listserv import config, lists, membership
from listserv.daemon import Daemon
from listserv.pipeline import process
from listserv.store import Store, inbound
from tests.browser.pages import Browser, chromium
from tests.confidential.conftest import compose
from tests.conftest import Sink, free_port, running
from tests.dns_server import LoopbackDns, Zone
from tests.web.conftest import Site

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LIST = "advocates@lists.example.org"
MEMBERS = {
    "ann@example.org": "Ann Rivera", "ben@example.org": "Ben Okafor", "carla@example.org": "Carla Mendes",
    "dev@example.org": "Dev Patel", "erin@example.org": "Erin Walsh",
}
DAY = 86400.0
START = 1795000000.0  # November 2026
# (message id, parent id or "", sender, subject, body, days after START)
POSTS = (
    ("m1", "", "ann", "Mitigation video at a federal sentencing: worth it?",
     "Has anyone used a short mitigation video? The judge allows ten minutes.", 0.2),
    ("m2", "m1", "ben", "Re: Mitigation video at a federal sentencing: worth it?",
     "Twice, both times with the family speaking. Keep it under five minutes.", 0.4),
    ("m3", "m1", "carla", "Re: Mitigation video at a federal sentencing: worth it?",
     "Check the local rules on exhibits first; one court wanted a transcript.", 0.9),
    ("m4", "", "dev", "Records requests to state prisons taking 90+ days",
     "Is anyone else waiting this long? Any address that answers faster?", 1.3),
    ("m5", "m4", "erin", "Re: Records requests to state prisons taking 90+ days",
     "A letter from the court clerk helped us once.", 1.6),
    ("m6", "", "carla", "[CONFIDENTIAL] Looking for a neuropsychologist in the Midwest",
     "Client with a history of head injuries; who has testified well?", 2.1),
    ("m7", "m6", "ann", "Re: [CONFIDENTIAL] Looking for a neuropsychologist in the Midwest",
     "I will send you two names off list.", 2.3),
    ("m8", "", "erin", "Webinar recording: writing the sentencing memorandum",
     "The recording and slides from Tuesday are in the members' folder.", 2.8),
    ("m9", "", "ben", "Job: mitigation specialist, state public defender",
     "Full time, remote within the state; applications close in December.", 3.4),
)


def demo_settings(directory: Path, sink_port: int, nameserver: str) -> config.Settings:
    """The defaults with everything under directory, free ports, mail to the sink and DNS on loopback."""
    base = config.Settings()
    web_port = free_port()
    return replace(
        base,
        server=replace(base.server, port=free_port(), hostname="lists.example.org"),
        storage=replace(base.storage, database=str(directory / "listserv.db")),
        delivery=replace(base.delivery, transport=f"smtp://127.0.0.1:{sink_port}", poll_interval=0.1),
        dns=replace(base.dns, nameservers=(nameserver,), timeout=2.0),
        web=replace(base.web, enabled=True, port=web_port, base_url=f"http://127.0.0.1:{web_port}"),
    )


async def fill_archive(settings: config.Settings) -> None:
    """The demonstration list, its members, and POSTS put through the real pipeline."""
    store = await Store.open(settings.storage.database)
    try:
        await lists.create(store, LIST, description="Sentencing advocates and mitigation specialists")
        for address, name in MEMBERS.items():
            await membership.add(store, LIST, address, name, role="owner" if address.startswith("ann") else "member")
        for message_id, parent, who, subject, body, days in POSTS:
            sender = f"{MEMBERS[who + '@example.org']} <{who}@example.org>"
            headers = (("In-Reply-To", f"<{parent}@example.org>"),) if parent else ()
            raw = compose(subject, body + "\n", f"{message_id}@example.org", sender, LIST, headers, START + days * DAY)
            queued = await store.write(inbound.enqueue, f"{who}@example.org", [LIST], raw, "127.0.0.1")
            await process(store, settings, await inbound.get(store.db, queued))
    finally:
        await store.close()


async def capture(directory: Path, out: Path) -> Path:
    """Run the daemon over the demonstration archive; log ann in with Chromium; save the list's threads."""
    dns = LoopbackDns(Zone(), free_port())
    try:
        with running(Sink()) as sink:
            settings = demo_settings(directory, sink.port, dns.nameserver)
            await fill_archive(settings)
            daemon = Daemon(settings)
            await daemon.start()
            driver = await asyncio.to_thread(chromium, directory / "profile", 1024, 760)
            try:
                browser = Browser(driver, Site(daemon, sink, settings.web.base_url), out)
                await browser.login("ann@example.org")
                await browser.follow(LIST)
                shown = await browser.texts("ol.threads li")
                if len(shown) != sum(1 for post in POSTS if not post[1]):
                    raise RuntimeError(f"the page shows {shown}, not the demonstration threads")
                return await browser.screenshot("threads")
            finally:
                await asyncio.to_thread(driver.quit)
                await daemon.stop()
    finally:
        dns.stop()


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else DOCS
    with tempfile.TemporaryDirectory() as directory:
        print(asyncio.run(capture(Path(directory), out)))


if __name__ == "__main__":
    main(sys.argv[1:])
