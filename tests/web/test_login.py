"""Login by mailed link over real HTTP to the daemon: no oracle, single use, GET-safe, rate-limited, CSRF, logout."""

from __future__ import annotations

import asyncio

from listserv import membership
from tests.confidential.conftest import TEAM

from .conftest import ask_for_link, csrf_of


async def test_a_member_gets_a_link_and_its_button_logs_in(site):
    """ann asks at /login, gets one signed mail with a link; pressing its button sets a session cookie."""
    async with site.client() as client:
        await site.login(client, "ann@example.org")
        cookie = next(c for c in client.cookies.jar if c.name == "listserv_session")
        home = await client.get("/")
    assert home.status_code == 200 and TEAM in home.text and "ann@example.org" in home.text
    [(mail_from, _, mail)] = [t for t in site.sink.received if b"log in to the list archive" in t[2]]
    assert mail_from == "team-bounces@example.org"  # queued through listserv.outgoing, from ann's list
    assert b"From: \"team@example.org owner\" <team-owner@example.org>" in mail
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.secure is False


async def test_session_cookie_attributes(site):
    """The session cookie is HttpOnly, SameSite=Lax, with an expiry of session_days."""
    async with site.client() as client:
        path = await site.mailed_link(client, "ann@example.org")
        page = await client.get(path)
        pressed = await client.post(path, data={"csrf": csrf_of(page.text)})
    header = next(h for h in pressed.headers.get_list("set-cookie") if h.startswith("listserv_session="))
    assert "HttpOnly" in header and "SameSite=lax" in header and f"Max-Age={14 * 86400}" in header


async def test_the_answer_is_the_same_for_members_and_strangers(site):
    """No membership oracle: a member, a stranger and a malformed address get the same page; only the member mail."""
    async with site.client() as client:
        answers = [await ask_for_link(client, who) for who in ("bob@example.org", "nobody@else.example", "x y")]
    assert {a.status_code for a in answers} == {200}
    assert answers[0].text == answers[1].text == answers[2].text
    await site.sink.wait_for(lambda: site.login_links("bob@example.org"))
    await asyncio.sleep(0.3)
    assert site.sink.copies_for("nobody@else.example") == []


async def test_fetching_the_link_does_not_use_it_up(site):
    """A link scanner's GETs leave the link valid; the button's POST logs in once; a second POST is refused."""
    async with site.client() as client:
        path = await site.mailed_link(client, "ann@example.org")
        for _ in range(3):
            assert (await client.get(path)).status_code == 200
        page = await client.get(path)
        first = await client.post(path, data={"csrf": csrf_of(page.text)})
        again = await client.post(path, data={"csrf": csrf_of(page.text)})
        after = await client.get(path)
    assert first.status_code == 303
    assert again.status_code == 410 and after.status_code == 410 and "no longer works" in after.text


async def test_an_unknown_link_opens_nothing(site):
    """A made-up token gets the 'no longer works' page, for GET and POST alike."""
    async with site.client() as client:
        page = await client.get("/login")
        got = await client.get("/login/madeup")
        posted = await client.post("/login/madeup", data={"csrf": csrf_of(page.text)})
    assert got.status_code == posted.status_code == 410


async def test_posts_without_the_csrf_token_are_refused(site):
    """/login, the link's button and /logout refuse a POST whose csrf field is missing or wrong (403)."""
    async with site.client() as client:
        await client.get("/login")
        no_token = await client.post("/login", data={"address": "ann@example.org"})
        wrong = await client.post("/login", data={"address": "ann@example.org", "csrf": "forged"})
        path = await site.mailed_link(client, "ann@example.org")
        button = await client.post(path, data={})
        still = await client.get(path)
        await site.login(client, "bob@example.org")
        logout = await client.post("/logout", data={"csrf": "forged"})
        home = await client.get("/")
    assert no_token.status_code == wrong.status_code == button.status_code == logout.status_code == 403
    assert still.status_code == 200  # the refused button did not use the link up
    assert home.status_code == 200 and "bob@example.org" in home.text  # the forged logout did nothing


async def test_login_links_are_rate_limited_per_address(site):
    """A fourth request for the same address within 15 minutes gets 429, member or not."""
    async with site.client() as client:
        answers = [await ask_for_link(client, "nobody@else.example") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429] and "Too many" in answers[3].text


async def test_login_links_are_rate_limited_per_client(site):
    """One client asking for ten different addresses is then refused for an eleventh (429)."""
    async with site.client() as client:
        answers = [(await ask_for_link(client, f"n{i}@else.example")).status_code for i in range(11)]
    assert answers[:10] == [200] * 10 and answers[10] == 429


async def test_logout_ends_the_session(site):
    """The logout button (with the session's CSRF token) ends the session: / goes back to /login."""
    async with site.client() as client:
        await site.login(client, "ann@example.org")
        home = await client.get("/")
        out = await client.post("/logout", data={"csrf": csrf_of(home.text)})
        after = await client.get("/")
    assert out.status_code == 303 and after.status_code == 303 and after.headers["location"] == "/login"


async def test_removing_a_member_ends_their_sessions(site):
    """`members remove` (the shared operation) ends every web session of the address at once."""
    async with site.client() as client:
        await site.login(client, "bob@example.org")
        assert (await client.get(f"/lists/{TEAM}/")).status_code == 200
        await membership.remove(site.daemon.store, TEAM, "bob@example.org", by="olga@example.org")
        after = await client.get(f"/lists/{TEAM}/")
    assert after.status_code == 303 and after.headers["location"] == "/login"


async def test_pages_carry_the_security_headers(site):
    """Every answer, a 404 too, forbids framing, sniffing, caching and referrers, and allows no script."""
    async with site.client() as client:
        for path in ("/login", "/no/such/page", "/static/style.css"):
            headers = (await client.get(path)).headers
            assert "frame-ancestors 'none'" in headers["content-security-policy"]
            assert "default-src 'self'" in headers["content-security-policy"]
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "no-referrer"
