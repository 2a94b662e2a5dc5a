"""The web archive in a real headless Chromium: a member logs in through the mailed link, reads the list's
threads, a thread and a post, searches, and logs out; a member not entitled to confidential posts sees no trace
of the confidential thread. Screenshots of the pages land in the test's artifacts directory."""

from __future__ import annotations

from tests.confidential.conftest import NOT_ENTITLED, SECRET_SUBJECT, TEAM, leaked

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path) -> bool:
    return path.read_bytes()[:8] == PNG and path.stat().st_size > 1000


async def test_a_member_logs_in_through_the_mailed_link(browser):
    """ann asks /login for a link, opens the one the sink received, presses its button and lands on her lists
    with an HttpOnly, SameSite=Lax session cookie."""
    await browser.login("ann@example.org")
    assert await browser.path() == "/"
    assert TEAM in await browser.texts("ul.lists a")
    session = (await browser.cookies())["listserv_session"]
    assert session["httpOnly"] is True and session["sameSite"] == "Lax"


async def test_the_mailed_link_opened_twice_does_not_log_in_again(browser):
    """After its button was pressed the link shows 'This link no longer works' and no button."""
    await browser.login("ann@example.org")
    await browser.open(browser.site.login_links("ann@example.org")[-1])
    assert await browser.heading() == "This link no longer works"
    assert "Log in" not in await browser.texts("main button")


async def test_a_member_reads_threads_a_thread_and_a_post(browser, artifacts):
    """ann follows her list to its threads (the confidential one badged), opens the ordinary thread and its post;
    each page is captured as a PNG."""
    await browser.login("ann@example.org")
    await browser.follow(TEAM)
    assert await browser.heading() == TEAM
    threads = await browser.texts("ol.threads li")
    assert any("Memo template" in t for t in threads)
    assert any(SECRET_SUBJECT in t and "Confidential" in t for t in threads)
    listed = await browser.screenshot("threads")

    await browser.follow("Memo template")
    assert await browser.heading() == "Memo template" and (await browser.path()).startswith(f"/lists/{TEAM}/threads/")
    whole = await browser.screenshot("thread")

    await browser.follow("Memo template")
    assert "A public memo template." in await browser.text(".body")
    assert await browser.texts(".banner") == []
    post = await browser.screenshot("message")
    assert all(_is_png(path) for path in (listed, whole, post))
    assert sorted(p.name for p in artifacts.iterdir()) == ["message.png", "thread.png", "threads.png"]


async def test_an_entitled_member_sees_the_confidential_post_under_its_banner(browser):
    """bob opens the confidential thread from the list and its post: the banner is on the page."""
    await browser.login("bob@example.org")
    await browser.open(f"/lists/{TEAM}/")
    await browser.follow(f"[CONFIDENTIAL] {SECRET_SUBJECT}")
    await browser.follow(f"[CONFIDENTIAL] {SECRET_SUBJECT}")
    assert "Confidential" in await browser.text(".banner")
    assert "Zanzibarian" in await browser.text(".body")


async def test_search_from_the_search_box_marks_the_matches(browser, artifacts):
    """ann types into the labelled search box and presses Search: the result's matched word is in <mark>, and
    the result links to the post."""
    await browser.login("ann@example.org")
    await browser.open(f"/lists/{TEAM}/")
    await browser.fill(f"Search {TEAM}", "memo")
    await browser.press("Search")
    assert await browser.path() == f"/lists/{TEAM}/search?q=memo"
    assert await browser.texts("ol.results mark") == ["memo"]
    assert _is_png(await browser.screenshot("search"))
    await browser.follow("Memo template")
    assert "A public memo template." in await browser.text(".body")


async def test_a_bad_query_shows_its_one_line_error(browser):
    """A malformed query typed in the box shows the query language's error as an alert, and no results."""
    await browser.login("ann@example.org")
    await browser.open(f"/lists/{TEAM}/")
    await browser.fill(f"Search {TEAM}", "after:yesterday")
    await browser.press("Search")
    [error] = await browser.texts("[role=alert]")
    assert "after:" in error and "\n" not in error
    assert await browser.texts("ol.results li") == []


async def test_a_member_not_entitled_sees_nothing_of_the_confidential_thread(browser):
    """nina (confidential off) sees the ordinary thread only; searching a secret word finds nothing; the
    confidential post's address shows the 'Not found' page; no secret word is anywhere in what she was shown."""
    await browser.login(NOT_ENTITLED)
    await browser.follow(TEAM)
    seen = [await browser.source()]
    assert len(await browser.texts("ol.threads li")) == 1 and "Memo template" in await browser.text("ol.threads")
    await browser.fill(f"Search {TEAM}", "Zanzibarian")
    await browser.press("Search")
    assert await browser.texts("ol.results li") == ["Nothing found."]
    seen.append((await browser.source()).replace('value="Zanzibarian"', ""))  # her own query, echoed in the box
    await browser.open(f"/lists/{TEAM}/messages/1")
    assert await browser.heading() == "Not found"
    seen.append(await browser.source())
    assert [leaked(html) for html in seen] == [[], [], []]
    assert all("Confidential" not in html for html in seen)


async def test_logging_out_ends_the_session(browser):
    """After 'Log out' the browser is on the login page, has no session cookie, and a list page sends it back
    to /login."""
    await browser.login("ann@example.org")
    await browser.open(f"/lists/{TEAM}/")
    await browser.logout()
    assert await browser.path() == "/login" and await browser.heading() == "Log in"
    assert "listserv_session" not in await browser.cookies()
    await browser.open(f"/lists/{TEAM}/")
    assert await browser.path() == "/login"


async def test_the_pages_fit_a_phone_screen(browser, artifacts):
    """On a screen 390 CSS pixels wide (a phone) the login page, the lists, the threads, a thread, a post and a
    search need no sideways scrolling."""
    await browser.resize(390, 844)
    await browser.open("/login")
    assert not await browser.scrolls_sideways()
    await browser.login("ann@example.org")
    assert not await browser.scrolls_sideways()
    for step in (TEAM, "Memo template", "Memo template"):
        await browser.follow(step)
        assert not await browser.scrolls_sideways(), await browser.path()
    await browser.fill(f"Search {TEAM}", "memo")
    await browser.press("Search")
    assert not await browser.scrolls_sideways()
    assert _is_png(await browser.screenshot("phone-search"))
