"""The web pages inside `listserv serve`: off when disabled, a taken port refused in one line, links and
sessions expire on the daemon's clock."""

from __future__ import annotations

import socket
from dataclasses import replace

import httpx
import pytest

from listserv.daemon import Daemon
from listserv.errors import CannotListen
from tests.cli.test_serve_errors import error_lines, serve, write
from tests.confidential.conftest import TEAM
from tests.conftest import free_port

from .conftest import Site, csrf_of


async def test_disabled_web_pages_open_no_port(smtp_settings):
    """[web] enabled = false: the daemon serves SMTP only and has no web server."""
    daemon = Daemon(smtp_settings)  # the test settings turn the web pages off
    await daemon.start()
    try:
        assert daemon.web is None
    finally:
        await daemon.stop()


async def test_a_taken_web_port_stops_the_start_in_one_line(web_settings):
    """Another program on the web port: CannotListen naming host, port and 'web'; nothing is left running."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        settings = replace(web_settings, web=replace(web_settings.web, port=port))
        daemon = Daemon(settings)
        with pytest.raises(CannotListen, match=rf"^cannot listen on 127\.0\.0\.1:{port} \(web\): "):
            await daemon.start()
    assert daemon.store is not None and daemon._tasks == []


@pytest.mark.slow
def test_serve_refuses_a_taken_web_port_with_exit_1(tmp_path):
    """`listserv serve` as a process with the web port taken: one error line naming it, exit 1, no SMTP offered."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = serve(write(tmp_path, f'[delivery]\ntransport = "maildir:{tmp_path / "outbox"}"\n'
                                     f"[server]\nport = {free_port()}\n[web]\nport = {port}\n"))
    assert done.returncode == 1, done.stderr
    [line] = error_lines(done)
    assert line.startswith(f"listserv: error: cannot listen on 127.0.0.1:{port} (web): ")
    assert "listening on" not in done.stderr


@pytest.fixture
async def clocked(web_settings, sink, archive):
    """The daemon on a clock the test moves: clocked.now is the time it reads."""
    class Clock:
        now = 1800000000.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    daemon = Daemon(web_settings, clock=clock)
    await daemon.start()
    yield Site(daemon, sink, f"http://127.0.0.1:{daemon.web.port}"), clock
    await daemon.stop()


async def test_a_link_expires_after_15_minutes(clocked):
    """A link opened 16 minutes after it was mailed shows 'no longer works' and logs nobody in."""
    site, clock = clocked
    async with site.client() as client:
        path = await site.mailed_link(client, "ann@example.org")
        page = await client.get(path)
        clock.now += 16 * 60
        late = await client.get(path)
        pressed = await client.post(path, data={"csrf": csrf_of(page.text)})
    assert page.status_code == 200 and late.status_code == 410 and pressed.status_code == 410


async def test_a_session_ends_after_session_days(clocked):
    """A login is good for [web] session_days (14): on day 15 the pages send the member to /login."""
    site, clock = clocked
    async with site.client() as client:
        await site.login(client, "ann@example.org")
        clock.now += 13 * 86400
        during = await client.get(f"/lists/{TEAM}/")
        clock.now += 2 * 86400
        after = await client.get(f"/lists/{TEAM}/")
    assert during.status_code == 200 and (after.status_code, after.headers["location"]) == (303, "/login")


async def test_https_base_url_makes_the_cookie_secure(web_settings, sink, archive):
    """With an https base_url the session cookie carries Secure (the proxy in front speaks TLS)."""
    port = web_settings.web.port
    settings = replace(web_settings, web=replace(web_settings.web, base_url=f"https://127.0.0.1:{port}"))
    daemon = Daemon(settings)
    await daemon.start()
    try:
        site = Site(daemon, sink, f"http://127.0.0.1:{port}")
        async with httpx.AsyncClient(base_url=site.base) as client:
            form = await client.get("/login")
    finally:
        await daemon.stop()
    assert "; secure" in form.headers["set-cookie"].casefold()
