"""The archive pages over real HTTP: members only, confidential posts only for the entitled (audited), 404 alike."""

from __future__ import annotations

from listserv import audit
from listserv.archive import access
from listserv.store import search_index
from tests.confidential.conftest import NOT_ENTITLED, TEAM, leaked

from .conftest import OTHER, OUTSIDER

PAGES = (f"/lists/{TEAM}/", f"/lists/{TEAM}/messages/1", f"/lists/{TEAM}/messages/2", f"/lists/{TEAM}/search?q=memo")


async def _thread_of(site, archive_id: int) -> int:
    """The thread number of an archived post, read without showing (nor auditing) the post."""
    return (await search_index.fields(site.daemon.store.db, archive_id))["thread_id"]


async def test_visitors_not_logged_in_are_sent_to_login(site):
    """Every archive page, of a real list or not, redirects a visitor without a session to /login."""
    async with site.client() as client:
        for path in (*PAGES, "/lists/nosuch@example.org/", "/"):
            answer = await client.get(path)
            assert (answer.status_code, answer.headers["location"]) == (303, "/login"), path


async def test_a_member_of_another_list_sees_404_like_a_missing_page(site):
    """olive (member of other@ only) gets for every page of team@ exactly the page of a list that does not exist."""
    async with site.client() as client:
        await site.login(client, OUTSIDER)
        missing = await client.get("/lists/nosuch@example.org/")
        answers = [await client.get(path) for path in PAGES]
        own = await client.get(f"/lists/{OTHER}/")
    assert missing.status_code == 404
    assert all((a.status_code, a.text) == (404, missing.text) for a in answers)
    assert own.status_code == 200


async def test_the_thread_list_shows_ordinary_threads_newest_first(site):
    """ann sees team@'s threads, each linked; nina (not entitled) sees the ordinary one only."""
    async with site.client() as client:
        await site.login(client, NOT_ENTITLED)
        page = await client.get(f"/lists/{TEAM}/")
    assert page.status_code == 200 and "Memo template" in page.text
    assert leaked(page.text) == [] and "Confidential" not in page.text
    assert page.text.count('<a href="/lists/team@example.org/threads/') == 1


async def test_a_non_entitled_member_cannot_reach_a_confidential_post(site):
    """nina gets 404 for the confidential post and its thread, the same page as for a post that does not exist;
    search finds no trace of it; nothing is audited."""
    thread = await _thread_of(site, 1)
    async with site.client() as client:
        await site.login(client, NOT_ENTITLED)
        missing = await client.get(f"/lists/{TEAM}/messages/999")
        post = await client.get(f"/lists/{TEAM}/messages/1")
        whole = await client.get(f"/lists/{TEAM}/threads/{thread}")
        found = await client.get(f"/lists/{TEAM}/search", params={"q": "Zanzibarian OR memo"})
    assert missing.status_code == 404 and (post.status_code, post.text) == (404, missing.text)
    assert (whole.status_code, whole.text) == (404, missing.text)
    results = found.text.split('<ol class="results">')[1]  # the search box above repeats nina's own query
    assert found.status_code == 200 and "Memo template" in results and leaked(results) == []
    assert "/messages/1\"" not in found.text
    assert await audit.entries(site.daemon.store, TEAM, action=access.READ) == []


async def test_an_entitled_member_sees_the_banner_and_the_read_is_audited(site):
    """bob opens the confidential post: a confidential banner, the text, and an audit row naming bob."""
    async with site.client() as client:
        await site.login(client, "bob@example.org")
        post = await client.get(f"/lists/{TEAM}/messages/1")
    assert post.status_code == 200 and 'class="banner"' in post.text and "Zanzibarian" in post.text
    [entry] = await audit.entries(site.daemon.store, TEAM, action=access.READ)
    assert (entry["actor"], entry["object"], entry["detail"]) == ("bob@example.org", "archive:1",
                                                                  "show as bob@example.org")


async def test_an_entitled_member_finds_confidential_posts_marked(site):
    """bob's search finds the confidential post with a badge, its matched word in <mark>; the read is audited."""
    async with site.client() as client:
        await site.login(client, "bob@example.org")
        found = await client.get(f"/lists/{TEAM}/search", params={"q": "Zanzibarian"})
        listed = await client.get(f"/lists/{TEAM}/")
    assert found.status_code == 200 and "<mark>Zanzibarian</mark>" in found.text and "Confidential" in found.text
    assert "Confidential" in listed.text and "Memo template" in listed.text
    details = [e["detail"] for e in await audit.entries(site.daemon.store, TEAM, action=access.READ)]
    assert "search as bob@example.org" in details and "threads as bob@example.org" in details


async def test_a_post_of_another_list_is_404_under_this_list(site):
    """A post of team@ asked for under other@'s path is not found; under its own list it is shown."""
    async with site.client() as client:
        await site.login(client, "ann@example.org")
        wrong = await client.get(f"/lists/{OTHER}/messages/2")
        right = await client.get(f"/lists/{TEAM}/messages/2")
        bad_number = await client.get(f"/lists/{TEAM}/messages/abc")
    assert wrong.status_code == 404 and bad_number.status_code == 404
    assert right.status_code == 200 and "A public memo template." in right.text


async def test_a_thread_page_lists_its_posts(site):
    """ann opens the ordinary post's thread: its post linked, no confidential banner."""
    thread = await _thread_of(site, 2)
    async with site.client() as client:
        await site.login(client, "ann@example.org")
        page = await client.get(f"/lists/{TEAM}/threads/{thread}")
    assert page.status_code == 200 and f'/lists/{TEAM}/messages/2"' in page.text and 'class="banner"' not in page.text


async def test_a_bad_query_shows_its_one_line_error(site):
    """A malformed query answers 400 with the archive query language's one-line error."""
    async with site.client() as client:
        await site.login(client, "ann@example.org")
        page = await client.get(f"/lists/{TEAM}/search", params={"q": "after:yesterday"})
    assert page.status_code == 400 and 'class="error"' in page.text
