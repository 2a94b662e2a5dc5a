"""The moderators' and owners' pages over real HTTP to the daemon: who may open them, the masked confidential
post and its audited reveal, approve / reject / discard and requests to join through the CLI's operations."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage

import pytest

from listserv import audit, membership, moderation
from listserv.archive import access
from tests.confidential.conftest import TEAM, compose, leaked, secret
from tests.e2e.helpers import send

from .conftest import OTHER, OUTSIDER, csrf_of

STRANGER = "x@stranger.example"
HTML_SENDER = "y@stranger.example"
MOD = "mod@example.org"
OWNER = "olga@example.org"
APPLICANTS = ("newbie@example.org", "nosy@example.org")


@pytest.fixture
async def held_posts(archive, submit, store) -> dict[str, int]:
    """Held on team@: an ordinary post and a confidential one of a stranger; on other@: one post; and two
    confirmed requests to join team@. Their held ids by name."""
    await submit(compose("Parole hearing question", "Who covers the parole board?\n", "h1@stranger.example",
                         sender=f"Xavier <{STRANGER}>"), mail_from=STRANGER)
    await submit(secret("h2@stranger.example", sender=f"Xavier <{STRANGER}>"), mail_from=STRANGER)
    await submit(compose("Other list question", "Hello other.\n", "h3@stranger.example", sender=STRANGER, to=OTHER),
                 rcpts=(OTHER,), mail_from=STRANGER)
    await submit(_html_post(), mail_from=HTML_SENDER)
    ids = {row["sender"] + row["list"] + str(row["confidential"]): row["id"] for row in await moderation.waiting(store)}
    for address in APPLICANTS:
        now = time.time()
        await store.write(membership.apply_in, archive.id, address, "", now, now)
    return {"plain": ids[f"{STRANGER}{TEAM}False"], "secret": ids[f"{STRANGER}{TEAM}True"],
            "other": ids[f"{STRANGER}{OTHER}False"], "html": ids[f"{HTML_SENDER}{TEAM}False"]}


def _html_post() -> bytes:
    """An HTML-only post with a script, a javascript: link, a tracking image and a PDF attached."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = HTML_SENDER, TEAM, "Court calendar"
    msg["Message-ID"] = "<h4@stranger.example>"
    msg.set_content('<p>Hearing <b>moved</b></p><script>steal()</script><img src="http://t.example/p.gif">'
                    '<a href="javascript:alert(1)">click</a>', subtype="html")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="calendar.pdf")
    return msg.as_bytes()


@pytest.fixture
async def site(held_posts, site):
    """The daemon of tests/web/conftest.py, started after the held posts exist (so this module's tests see them)."""
    return site


async def _logged_in(site, client, address: str) -> str:
    """Log address in; the session's CSRF token (read from any page's form)."""
    await site.login(client, address)
    return csrf_of((await client.get("/")).text)


async def _decided(site, held_id: int) -> dict:
    return await moderation.summary(site.daemon.store, held_id)


def _owner_pages(held_posts) -> tuple[str, ...]:
    return (f"/lists/{TEAM}/held", f"/lists/{TEAM}/held/{held_posts['plain']}", f"/lists/{TEAM}/members",
            f"/lists/{TEAM}/audit")


@pytest.mark.parametrize("address", ["ann@example.org", "nina@example.org", OUTSIDER])
async def test_members_and_others_get_404_like_a_missing_page(site, held_posts, address):
    """A member, a member not entitled to confidential posts and a member of another list get, for every
    moderation page and button, exactly the page of a list that does not exist; nothing is decided."""
    async with site.client() as client:
        csrf = await _logged_in(site, client, address)
        missing = await client.get("/lists/nosuch@example.org/held")
        answers = [await client.get(path) for path in _owner_pages(held_posts)]
        answers.append(await client.post(f"/lists/{TEAM}/held/{held_posts['plain']}/approve", data={"csrf": csrf}))
        answers.append(await client.post(f"/lists/{TEAM}/held/{held_posts['secret']}/reveal", data={"csrf": csrf}))
    assert missing.status_code == 404
    assert all((a.status_code, a.text) == (404, missing.text) for a in answers)
    assert (await _decided(site, held_posts["plain"]))["decision"] is None
    assert await audit.entries(site.daemon.store, TEAM, action=access.READ) == []


async def test_visitors_not_logged_in_are_sent_to_login(site, held_posts):
    """Every moderation page, and a POST to a button, redirects a visitor without a session to /login."""
    async with site.client() as client:
        answers = [await client.get(path) for path in _owner_pages(held_posts)]
        answers.append(await client.post(f"/lists/{TEAM}/held/{held_posts['plain']}/discard", data={}))
    assert all((a.status_code, a.headers["location"]) == (303, "/login") for a in answers)


async def test_a_moderator_sees_the_queue_but_not_the_owners_pages(site, held_posts):
    """mod@ (moderator) opens the held queue with both held posts and the requests; members and audit are 404."""
    async with site.client() as client:
        await _logged_in(site, client, MOD)
        queue = await client.get(f"/lists/{TEAM}/held")
        members = await client.get(f"/lists/{TEAM}/members")
        log = await client.get(f"/lists/{TEAM}/audit")
    assert queue.status_code == 200 and "Parole hearing question" in queue.text and STRANGER in queue.text
    assert f'/lists/{TEAM}/held/{held_posts["secret"]}"' in queue.text and "nonmember" in queue.text
    assert all(address in queue.text for address in APPLICANTS)
    assert members.status_code == log.status_code == 404
    assert 'href="/lists/team@example.org/held"' in queue.text and "/members\"" not in queue.text


async def test_navigation_links_follow_the_role(site, held_posts):
    """On the list's thread page the owner sees held/members/audit links, the moderator the held link only,
    a member none."""
    pages = {}
    for address in (OWNER, MOD, "ann@example.org"):
        async with site.client() as client:
            await _logged_in(site, client, address)
            pages[address] = (await client.get(f"/lists/{TEAM}/")).text
    links = [f'href="/lists/{TEAM}/{name}"' for name in ("held", "members", "audit")]
    assert all(link in pages[OWNER] for link in links)
    assert [link in pages[MOD] for link in links] == [True, False, False]
    assert not any(link in pages["ann@example.org"] for link in links)


async def test_a_confidential_held_post_is_masked_until_revealed(site, held_posts):
    """The queue and the post's page show '(confidential)' and no secret word; nothing is audited until the
    reveal button, whose POST shows subject and text and writes the audit row `held show --body` writes."""
    path = f"/lists/{TEAM}/held/{held_posts['secret']}"
    async with site.client() as client:
        await _logged_in(site, client, MOD)
        queue = await client.get(f"/lists/{TEAM}/held")
        masked = await client.get(path)
        assert await audit.entries(site.daemon.store, TEAM, action=access.READ) == []
        shown = await client.post(f"{path}/reveal", data={"csrf": csrf_of(masked.text)})
        again = await client.get(path)
    assert leaked(queue.text) == [] and "(confidential)" in queue.text
    assert masked.status_code == 200 and leaked(masked.text) == [] and "Reveal the post" in masked.text
    assert shown.status_code == 200 and sorted(leaked(shown.text)) == ["Quillfeather", "Xylophonic", "Zanzibarian"]
    assert leaked(again.text) == []  # a reveal holds for its one page: every look is on the record
    [entry] = await audit.entries(site.daemon.store, TEAM, action=access.READ)
    assert (entry["actor"], entry["object"], entry["detail"]) == (MOD, f"held:{held_posts['secret']}",
                                                                  "held show --body")


async def test_an_ordinary_held_post_is_shown_whole(site, held_posts):
    """The page of an ordinary held post shows subject, sender, reasons, headers and text without a reveal."""
    async with site.client() as client:
        await _logged_in(site, client, MOD)
        shown = await client.get(f"/lists/{TEAM}/held/{held_posts['plain']}")
    assert shown.status_code == 200 and "Who covers the parole board?" in shown.text
    assert "Reveal" not in shown.text and "Message-ID" in shown.text and "nonmember" in shown.text


async def test_a_held_html_post_is_shown_as_the_archive_pages_show_one(site, held_posts):
    """An HTML held post: its text without script, tracking image or javascript: target; the attachment listed by
    name, type and size, never shown."""
    async with site.client() as client:
        await _logged_in(site, client, MOD)
        shown = await client.get(f"/lists/{TEAM}/held/{held_posts['html']}")
    body = shown.text.split('<pre class="body">')[1].split("</pre>")[0]
    assert shown.status_code == 200 and body == "Hearing moved\n\nclick"
    assert "steal()" not in shown.text and "t.example" not in shown.text and "javascript:" not in shown.text
    assert "calendar.pdf (application/pdf, 8 bytes)" in shown.text


async def test_buttons_without_the_csrf_token_are_refused(site, held_posts):
    """Reveal, approve, reject, discard and the request buttons refuse a POST with no or a forged token (403):
    nothing is decided, revealed or audited."""
    base = f"/lists/{TEAM}"
    held_id = held_posts["secret"]
    async with site.client() as client:
        await _logged_in(site, client, MOD)
        answers = [await client.post(f"{base}/held/{held_id}/{verb}", data=data)
                   for verb in ("reveal", "approve", "reject", "discard") for data in ({}, {"csrf": "forged"})]
        answers += [await client.post(f"{base}/requests/{verb}", data={"address": APPLICANTS[0]})
                    for verb in ("approve", "deny")]
    assert {a.status_code for a in answers} == {403} and all(leaked(a.text) == [] for a in answers)
    assert (await _decided(site, held_id))["decision"] is None
    assert await audit.entries(site.daemon.store, TEAM, action=access.READ) == []
    assert [r["address"] for r in await membership.pending(site.daemon.store, TEAM)] == list(APPLICANTS)


async def test_approve_delivers_the_post_and_the_audit_names_the_moderator(site, held_posts):
    """Approve on the web: the post reaches the members through the sink, the audit row's actor is mod@, and the
    post's page then says who approved it, without buttons."""
    held_id = held_posts["plain"]
    async with site.client() as client:
        csrf = await _logged_in(site, client, MOD)
        done = await client.post(f"/lists/{TEAM}/held/{held_id}/approve", data={"csrf": csrf})
        await site.sink.wait_for(lambda: any(b"Parole hearing question" in raw
                                             for raw in site.sink.copies_for("ann@example.org")))
        after = await client.get(done.headers["location"])
    assert done.status_code == 303 and done.headers["location"] == f"/lists/{TEAM}/held/{held_id}"
    [entry] = await audit.entries(site.daemon.store, TEAM, action="approve")
    assert (entry["actor"], entry["object"]) == (MOD, f"held:{held_id}")
    assert f"Approved by {MOD}" in after.text and "/approve\"" not in after.text


async def test_reject_with_a_reason_tells_the_sender(site, held_posts):
    """Reject with a reason and 'tell a non-member sender too': the stranger gets the notice with the reason;
    the audit row names mod@; the page shows the decision and the reason."""
    held_id = held_posts["plain"]
    async with site.client() as client:
        csrf = await _logged_in(site, client, MOD)
        done = await client.post(f"/lists/{TEAM}/held/{held_id}/reject",
                                 data={"csrf": csrf, "reason": "Members only,\n please join first", "notify": "on"})
        await site.sink.wait_for(lambda: any(b"was rejected" in raw for raw in site.sink.copies_for(STRANGER)))
        after = await client.get(f"/lists/{TEAM}/held/{held_id}")
    [notice] = [raw for raw in site.sink.copies_for(STRANGER) if b"was rejected" in raw]
    assert done.status_code == 303 and b"Members only, please join first" in notice
    [entry] = await audit.entries(site.daemon.store, TEAM, action="reject")
    assert (entry["actor"], entry["detail"]) == (MOD, "notice: sent")
    assert f"Rejected by {MOD}" in after.text and "Members only, please join first" in after.text


async def test_discard_drops_the_post_silently(site, held_posts):
    """Discard (by the owner): audited under olga@, gone from the queue, nothing mailed to the sender."""
    held_id = held_posts["plain"]
    async with site.client() as client:
        csrf = await _logged_in(site, client, OWNER)
        done = await client.post(f"/lists/{TEAM}/held/{held_id}/discard", data={"csrf": csrf})
        queue = await client.get(f"/lists/{TEAM}/held")
    assert done.status_code == 303 and (await _decided(site, held_id))["decided_by"] == OWNER
    [entry] = await audit.entries(site.daemon.store, TEAM, action="discard")
    assert (entry["actor"], entry["object"]) == (OWNER, f"held:{held_id}")
    assert "Parole hearing question" not in queue.text
    assert not any(b"was rejected" in raw for raw in site.sink.copies_for(STRANGER))


async def test_a_decided_post_refuses_a_second_decision(site, held_posts):
    """Approving a post another moderator discarded answers 409 with the one-line refusal naming who decided."""
    held_id = held_posts["plain"]
    await moderation.discard(site.daemon.store, held_id, OWNER)
    async with site.client() as client:
        csrf = await _logged_in(site, client, MOD)
        late = await client.post(f"/lists/{TEAM}/held/{held_id}/approve", data={"csrf": csrf})
    assert late.status_code == 409 and f"was already discarded by {OWNER}" in late.text
    assert (await _decided(site, held_id))["decision"] == "discarded"


async def test_a_held_post_of_another_list_is_404(site, held_posts):
    """other@'s held post under team@'s path: the page and its buttons answer 404, and it stays undecided;
    so do an unknown id and a non-number."""
    other = held_posts["other"]
    async with site.client() as client:
        csrf = await _logged_in(site, client, MOD)
        missing = await client.get("/lists/nosuch@example.org/held")
        answers = [await client.get(f"/lists/{TEAM}/held/{other}"),
                   await client.post(f"/lists/{TEAM}/held/{other}/approve", data={"csrf": csrf}),
                   await client.post(f"/lists/{TEAM}/held/{other}/reveal", data={"csrf": csrf}),
                   await client.get(f"/lists/{TEAM}/held/99999"), await client.get(f"/lists/{TEAM}/held/abc")]
    assert all((a.status_code, a.text) == (404, missing.text) for a in answers)
    assert (await _decided(site, other))["decision"] is None


async def test_requests_to_join_are_approved_and_denied(site, held_posts):
    """Approve makes newbie@ a member (welcomed by mail); deny with a reason tells nosy@ why; both audited
    under mod@; a request no longer waiting answers 409 with its one-line error, a malformed address 400."""
    newbie, nosy = APPLICANTS
    async with site.client() as client:
        csrf = await _logged_in(site, client, MOD)
        approved = await client.post(f"/lists/{TEAM}/requests/approve", data={"csrf": csrf, "address": newbie})
        denied = await client.post(f"/lists/{TEAM}/requests/deny",
                                   data={"csrf": csrf, "address": nosy, "reason": "Practitioners only"})
        again = await client.post(f"/lists/{TEAM}/requests/deny", data={"csrf": csrf, "address": nosy})
        garbled = await client.post(f"/lists/{TEAM}/requests/approve", data={"csrf": csrf, "address": "not one"})
        await site.sink.wait_for(lambda: site.sink.copies_for(newbie) and site.sink.copies_for(nosy))
    assert approved.status_code == denied.status_code == 303 and approved.headers["location"] == f"/lists/{TEAM}/held"
    assert again.status_code == 409 and f"no subscription request from {nosy} waits on {TEAM}" in again.text
    assert garbled.status_code == 400 and 'class="error"' in garbled.text and "not one" in garbled.text
    assert (await membership.get(site.daemon.store, TEAM, newbie)).role == "member"
    assert b"Practitioners only" in site.sink.copies_for(nosy)[0]
    actions = {(e["action"], e["actor"], e["object"]) for e in await audit.entries(site.daemon.store, TEAM)}
    assert {("approve-member", MOD, f"member:{newbie}"), ("deny-member", MOD, f"member:{nosy}")} <= actions


async def test_the_owner_sees_the_members_filtered_and_paged(site, held_posts):
    """olga@ sees every member with role, delivery, bounce score and joined date; ?q= filters by address or
    name; past 50 members the page links the next one; a bad page number is 404."""
    store = site.daemon.store
    for n in range(55):
        await membership.add(store, TEAM, f"extra{n:02d}@example.org", name=f"Extra {n}", by=OWNER)
    async with site.client() as client:
        await _logged_in(site, client, OWNER)
        first = await client.get(f"/lists/{TEAM}/members")
        second = await client.get(f"/lists/{TEAM}/members", params={"page": "2"})
        found = await client.get(f"/lists/{TEAM}/members", params={"q": "dora"})
        bad = await client.get(f"/lists/{TEAM}/members", params={"page": "0"})
    assert first.status_code == 200 and "ann@example.org" in first.text and "<td>Extra 0</td>" in first.text
    assert "<td>digest</td>" in first.text and "<td>0.00</td>" in first.text and " UTC</td>" in first.text
    assert first.text.count("<tr><td>") == 50 and "page=2" in first.text
    assert second.text.count("<tr><td>") == 62 - 50 and "page=3" not in second.text
    assert "<td>owner</td>" in second.text and "<td>moderator</td>" in second.text
    assert found.text.count("<tr><td>") == 1 and "dora@example.org" in found.text
    assert bad.status_code == 404


async def test_the_owner_reads_the_audit_log_newest_first(site, held_posts):
    """olga@ sees the list's audit entries newest first, as `audit ls` lists them, 50 a page with a link to older
    ones; a moderator's decision made on the web is there under their name."""
    store = site.daemon.store
    await moderation.discard(store, held_posts["plain"], MOD)
    for n in range(50):
        await membership.add(store, TEAM, f"late{n:02d}@example.org", by=OWNER)
    newest = await audit.entries(store, TEAM, 51)
    async with site.client() as client:
        await _logged_in(site, client, OWNER)
        first = await client.get(f"/lists/{TEAM}/audit")
        older = await client.get(f"/lists/{TEAM}/audit", params={"before": str(newest[49]["id"])})
        bad = await client.get(f"/lists/{TEAM}/audit", params={"before": "x"})
    assert first.status_code == 200 and first.text.index("late49@") < first.text.index("late48@")
    assert f"?before={newest[49]['id']}" in first.text and "late00@" in first.text
    assert "discard" in older.text and f'href="/lists/{TEAM}/held/{held_posts["plain"]}"' in older.text
    assert bad.status_code == 404


async def test_the_notice_of_a_post_held_by_the_daemon_links_its_page(site, held_posts):
    """A stranger's post over SMTP is held; the moderators' notice links its page under base_url, and the link
    opens that post for mod@."""
    raw = compose("Mitigation expert wanted", "Any names?\n", "h9@stranger.example", sender=STRANGER)
    await send(site.daemon.settings.server.port, raw, STRANGER, (TEAM,))
    notices = lambda: [m for m in site.sink.copies_for(MOD) if b"post held" in m and b"Mitigation" in m]  # noqa: E731
    await site.sink.wait_for(notices)
    [link] = re.findall(rf"{re.escape(site.base)}/lists/{re.escape(TEAM)}/held/\d+", notices()[0].decode())
    async with site.client() as client:
        await _logged_in(site, client, MOD)
        opened = await client.get(link)
    assert opened.status_code == 200 and "Mitigation expert wanted" in opened.text and "Any names?" in opened.text
