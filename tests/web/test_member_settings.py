"""A member's own settings page over real HTTP: delivery and own posts changed through the audited operations,
CSRF required, leaving confirmed by a button with the goodbye mail; nothing of a list the visitor is not in."""

from __future__ import annotations

from listserv import audit, membership
from tests.confidential.conftest import TEAM

from .conftest import OTHER, OUTSIDER, csrf_of

GOODBYE = b"is no longer a member of the mailing list"


async def logged_in(site, client, address: str = "bob@example.org"):
    """Log address in; its settings page for TEAM."""
    await site.login(client, address)
    page = await client.get(f"/lists/{TEAM}/settings")
    assert page.status_code == 200, page.text
    return page


async def test_the_list_pages_link_to_the_settings_page(site):
    """The nav of a list's pages links to /lists/LIST/settings, which shows the member's current choices."""
    async with site.client() as client:
        await site.login(client, "bob@example.org")
        threads = await client.get(f"/lists/{TEAM}/")
        page = await client.get(f"/lists/{TEAM}/settings")
    assert f'href="/lists/{TEAM}/settings"' in threads.text
    assert 'value="regular" checked' in page.text and 'name="ownposts" value="on" checked' in page.text


async def test_changes_go_through_the_audited_operation_with_the_member_as_actor(site, store):
    """delivery=digest and ownposts=off are saved; each change is an audit row by bob, path web."""
    async with site.client() as client:
        page = await logged_in(site, client)
        saved = await client.post(f"/lists/{TEAM}/settings",
                                  data={"csrf": csrf_of(page.text), "delivery": "digest", "ownposts": "off"})
        shown = await client.get(saved.headers["location"])
    assert saved.status_code == 303 and "Your settings are saved" in shown.text
    bob = await membership.get(store, TEAM, "bob@example.org")
    assert (bob.delivery, bob.receive_own) == ("digest", False)
    rows = await audit.entries(store, TEAM, action="set-member")
    assert {(row["actor"], row["object"], row["detail"]) for row in rows} == {
        ("bob@example.org", "member:bob@example.org", "delivery = digest (web)"),
        ("bob@example.org", "member:bob@example.org", "ownposts = False (web)"),
    }


async def test_an_unchanged_form_changes_and_audits_nothing(site, store):
    """Saving the settings as they are writes no audit row."""
    async with site.client() as client:
        page = await logged_in(site, client)
        await client.post(f"/lists/{TEAM}/settings",
                          data={"csrf": csrf_of(page.text), "delivery": "regular", "ownposts": "on"})
    assert await audit.entries(store, TEAM, action="set-member") == []


async def test_a_post_without_the_csrf_token_is_refused(site, store):
    """No token or a wrong one: 403, the settings stay as they were."""
    async with site.client() as client:
        await logged_in(site, client)
        missing = await client.post(f"/lists/{TEAM}/settings", data={"delivery": "nomail"})
        wrong = await client.post(f"/lists/{TEAM}/settings", data={"delivery": "nomail", "csrf": "x" * 43})
        leave = await client.post(f"/lists/{TEAM}/leave", data={})
    assert missing.status_code == wrong.status_code == leave.status_code == 403
    assert (await membership.get(store, TEAM, "bob@example.org")).delivery == "regular"


async def test_a_value_not_offered_answers_400_and_changes_nothing(site, store):
    """delivery=weekly: 400 with the one-line reason; ownposts sent with it is not saved either."""
    async with site.client() as client:
        page = await logged_in(site, client)
        answer = await client.post(f"/lists/{TEAM}/settings",
                                   data={"csrf": csrf_of(page.text), "delivery": "weekly", "ownposts": "off"})
    assert answer.status_code == 400 and "delivery: expected one of regular, digest, nomail" in answer.text
    bob = await membership.get(store, TEAM, "bob@example.org")
    assert (bob.delivery, bob.receive_own) == ("regular", True)


async def test_a_list_the_visitor_is_not_in_answers_404(site):
    """olive (a member of another list only) gets 404 for TEAM's settings and leave pages, GET and POST."""
    async with site.client() as client:
        await site.login(client, OUTSIDER)
        own = await client.get(f"/lists/{OTHER}/settings")
        answers = [await client.get(f"/lists/{TEAM}/settings"), await client.get(f"/lists/{TEAM}/leave"),
                   await client.post(f"/lists/{TEAM}/settings", data={"csrf": csrf_of(own.text)}),
                   await client.post(f"/lists/{TEAM}/leave", data={"csrf": csrf_of(own.text)})]
    assert own.status_code == 200
    assert [a.status_code for a in answers] == [404] * 4


async def test_leaving_asks_first_then_removes_audits_and_says_goodbye(site, store):
    """GET /leave changes nothing; its button removes bob (audited by bob, path web), mails the goodbye and ends
    his session."""
    async with site.client() as client:
        await logged_in(site, client)
        question = await client.get(f"/lists/{TEAM}/leave")
        assert await membership.find(store, TEAM, "bob@example.org") is not None
        done = await client.post(f"/lists/{TEAM}/leave", data={"csrf": csrf_of(question.text)})
        after = await client.get(f"/lists/{TEAM}/")
    assert question.status_code == 200 and "Leave team@example.org?" in question.text
    assert done.status_code == 200 and "You have left team@example.org" in done.text
    assert after.status_code == 303  # the session ended with the membership
    assert await membership.find(store, TEAM, "bob@example.org") is None
    [row] = await audit.entries(store, TEAM, action="unsubscribe")
    assert (row["actor"], row["object"], row["detail"]) == ("bob@example.org", "member:bob@example.org", "removed (web)")
    await site.sink.wait_for(lambda: any(GOODBYE in mail for mail in site.sink.copies_for("bob@example.org")))
