"""One-click unsubscribe (RFC 8058) end to end: the real daemon puts each member's own signed List-Unsubscribe
on their copy, and the URL in it unsubscribes over HTTP without a cookie; GETs change nothing; forged tokens 404."""

from __future__ import annotations

import re
from dataclasses import replace

import httpx
import pytest

from listserv import audit, digests, lists, membership, one_click
from listserv.daemon import Daemon
from tests.confidential.conftest import NOT_ENTITLED, TEAM, compose, secret
from tests.e2e.helpers import parsed, send
from tests.outgoing.helpers import keygen, sealed, signed_names, well_signed

from .conftest import Site

LINK = re.compile(r"<(https?://[^>]+/unsubscribe/[^>]+)>, <mailto:team-request@example\.org\?subject=unsubscribe>")
ONE_CLICK = {"List-Unsubscribe": "One-Click"}
GOODBYE = b"is no longer a member of the mailing list"
REGULAR = ("bob@example.org", "mod@example.org", "olga@example.org", NOT_ENTITLED)


async def running(settings, sink, cli) -> Site:
    daemon = Daemon(settings)
    await daemon.start()
    return Site(daemon, sink, f"http://127.0.0.1:{daemon.web.port}")


@pytest.fixture
async def one_click_site(web_settings, sink, archive):
    """The daemon with one-click on over loopback http ([web] one_click_on_http)."""
    settings = replace(web_settings, web=replace(web_settings.web, one_click_on_http=True))
    site = await running(settings, sink, None)
    yield site
    await site.daemon.stop()


async def post_and_copies(site: Site, subject: str, who=REGULAR, raw: bytes | None = None) -> dict[str, bytes]:
    """Post to TEAM over SMTP as ann (raw, else a post with that subject); the copy each of who got of it (the
    copy that has subject in it)."""
    await send(site.daemon.port, raw or compose(subject, message_id=f"{abs(hash(subject))}@example.org"),
               "ann@example.org", (TEAM,))
    marker = subject.encode()

    def copies() -> dict[str, bytes]:
        return {a: c for a in who for c in site.sink.copies_for(a) if marker in c}

    await site.sink.wait_for(lambda: len(copies()) == len(who))
    return copies()


def link_of(copy: bytes) -> str:
    """The one-click URL of a copy's List-Unsubscribe header."""
    return LINK.fullmatch(" ".join(parsed(copy)["List-Unsubscribe"].split())).group(1)


async def test_each_copy_carries_its_members_link_under_a_signature_that_covers_it(one_click_site, cli):
    """Every copy has its own URL plus the mailto, List-Unsubscribe-Post, one envelope sender per member (VERP);
    dkimpy verifies both signatures of each copy with List-Unsubscribe(-Post) in h=, and the ARC seal."""
    dns = await keygen(cli)
    copies = await post_and_copies(one_click_site, "Mitigation video advice")
    links = {address: link_of(copy) for address, copy in copies.items()}
    assert len(set(links.values())) == len(REGULAR)
    for address, copy in copies.items():
        msg = parsed(copy)
        assert len(msg.get_all("List-Unsubscribe")) == 1
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert well_signed(copy, dns) and sealed(copy, dns)
        assert {b"list-unsubscribe", b"list-unsubscribe-post"} <= set(signed_names(copy))
    senders = {frm for frm, rcpts, content in one_click_site.sink.received if b"Mitigation video advice" in content}
    assert {f"team-bounces+{address.replace('@', '=')}@example.org" for address in REGULAR} <= senders


async def test_copies_go_one_transaction_per_member_even_when_the_list_does_not_verp(one_click_site, store):
    """verp off: each member's copy is still a transaction of its own, from their VERP sender."""
    await lists.set_setting(store, TEAM, "verp", "off")
    copies = await post_and_copies(one_click_site, "Verp off")
    received = [(frm, rcpts) for frm, rcpts, content in one_click_site.sink.received if b"Verp off" in content]
    assert {rcpts[0] for _, rcpts in received} >= set(copies)
    assert all(rcpts == [rcpts[0]] and frm == f"team-bounces+{rcpts[0].replace('@', '=')}@example.org"
               for frm, rcpts in received)


async def test_a_second_list_unsubscribe_added_on_the_way_breaks_the_signature(one_click_site, cli):
    """The member's headers are oversigned, like From: a relay that adds another List-Unsubscribe fails DKIM."""
    dns = await keygen(cli)
    copy = (await post_and_copies(one_click_site, "Oversigned headers", ("bob@example.org",)))["bob@example.org"]
    forged = b"List-Unsubscribe: <https://evil.example/x>\r\n" + copy
    assert well_signed(copy, dns) and not well_signed(forged, dns)


async def test_confidential_copies_carry_the_link_too(one_click_site, cli):
    """A confidential post's copies (entitled members only) have their member's link and verify."""
    dns = await keygen(cli)
    raw = secret("oc-secret@example.org")
    copies = await post_and_copies(one_click_site, "oc-secret@example.org", ("bob@example.org",), raw)
    assert link_of(copies["bob@example.org"]) and well_signed(copies["bob@example.org"], dns)
    assert not [c for c in one_click_site.sink.copies_for(NOT_ENTITLED) if b"oc-secret" in c]


async def test_a_one_click_post_without_a_cookie_unsubscribes_audits_and_says_goodbye(one_click_site, store):
    """POST List-Unsubscribe=One-Click to bob's URL from a client with no cookie: 200, bob is out, the audit row's
    actor is one-click, and bob gets the goodbye mail."""
    link = link_of((await post_and_copies(one_click_site, "Jail visit", ("bob@example.org",)))["bob@example.org"])
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(link, data=ONE_CLICK)
    assert answer.status_code == 200 and "You have left team@example.org" in answer.text
    assert await membership.find(store, TEAM, "bob@example.org") is None
    [row] = await audit.entries(store, TEAM, action="unsubscribe")
    assert (row["actor"], row["object"], row["detail"]) == ("one-click", "member:bob@example.org",
                                                            "removed (web one-click)")
    sink = one_click_site.sink
    await sink.wait_for(lambda: any(GOODBYE in mail for mail in sink.copies_for("bob@example.org")))


async def test_a_get_changes_nothing_and_its_button_unsubscribes(one_click_site, store):
    """A link scanner's GETs leave bob a member; the page's button sends the one-click POST, which works."""
    link = link_of((await post_and_copies(one_click_site, "Scanner", ("bob@example.org",)))["bob@example.org"])
    async with httpx.AsyncClient(timeout=10) as client:
        pages = [await client.get(link) for _ in range(3)]
        assert await membership.find(store, TEAM, "bob@example.org") is not None
        button = re.search(r'<input type="hidden" name="(List-Unsubscribe)" value="(One-Click)">', pages[0].text)
        pressed = await client.post(link, data={button.group(1): button.group(2)})
    assert {page.status_code for page in pages} == {200} and "Unsubscribe from team@example.org" in pages[0].text
    assert pressed.status_code == 200 and await membership.find(store, TEAM, "bob@example.org") is None
    assert await audit.entries(store, TEAM, action="unsubscribe") != []


async def test_forged_and_damaged_tokens_answer_404_like_a_missing_page(one_click_site, store):
    """A token with its HMAC changed, one made with another secret, one for another member, junk: 404 for GET and
    POST, the same page as a path that does not exist; nobody leaves."""
    link = link_of((await post_and_copies(one_click_site, "Forgery", ("bob@example.org",)))["bob@example.org"])
    base, token = link.rsplit("/", 1)
    other = one_click.token(b"x" * 32, TEAM, "bob@example.org")
    named, tag = token.split(".")
    nina = one_click.token(b"x" * 32, TEAM, NOT_ENTITLED).split(".")[0] + "." + tag  # bob's tag on nina's name
    forged = [token[:-2] + ("AA" if not token.endswith("AA") else "BB"), other, nina, "junk", "a.b.c", named]
    async with httpx.AsyncClient(timeout=10) as client:
        missing = await client.get(one_click_site.base + "/no/such/page")
        answers = [await client.get(f"{base}/{t}") for t in forged]
        answers += [await client.post(f"{base}/{t}", data=ONE_CLICK) for t in forged]
    assert {a.status_code for a in answers} == {404} and {a.text for a in answers} == {missing.text}
    assert await membership.find(store, TEAM, "bob@example.org") is not None
    assert await membership.find(store, TEAM, NOT_ENTITLED) is not None


async def test_already_unsubscribed_gets_a_page_saying_so_and_nothing_else(one_click_site, store):
    """A second POST (and a GET) after leaving: 200 saying so, no second audit row, no second goodbye mail."""
    sink = one_click_site.sink
    link = link_of((await post_and_copies(one_click_site, "Twice", ("bob@example.org",)))["bob@example.org"])
    async with httpx.AsyncClient(timeout=10) as client:
        await client.post(link, data=ONE_CLICK)
        await sink.wait_for(lambda: any(GOODBYE in mail for mail in sink.copies_for("bob@example.org")))
        again = await client.post(link, data=ONE_CLICK)
        shown = await client.get(link)
    assert again.status_code == shown.status_code == 200
    assert "Already unsubscribed" in again.text and "Already unsubscribed" in shown.text
    assert len(await audit.entries(store, TEAM, action="unsubscribe")) == 1
    await one_click_site.daemon.delivery.drain()
    assert sum(GOODBYE in mail for mail in sink.copies_for("bob@example.org")) == 1


async def test_a_post_without_the_one_click_body_changes_nothing(one_click_site, store):
    """A POST to the URL without List-Unsubscribe=One-Click answers 400; bob stays."""
    link = link_of((await post_and_copies(one_click_site, "No body", ("bob@example.org",)))["bob@example.org"])
    async with httpx.AsyncClient(timeout=10) as client:
        empty = await client.post(link)
        other = await client.post(link, data={"List-Unsubscribe": "yes"})
    assert empty.status_code == other.status_code == 400
    assert await membership.find(store, TEAM, "bob@example.org") is not None


async def test_a_member_removed_and_added_again_keeps_the_same_link(one_click_site, store):
    """The token depends on the list and the address only: after bob leaves and rejoins, his old link unsubscribes
    him again (it only ever unsubscribes the member it was mailed to)."""
    link = link_of((await post_and_copies(one_click_site, "Rejoin", ("bob@example.org",)))["bob@example.org"])
    async with httpx.AsyncClient(timeout=10) as client:
        await client.post(link, data=ONE_CLICK)
        await membership.add(store, TEAM, "bob@example.org")
        again = await client.post(link, data=ONE_CLICK)
    assert again.status_code == 200 and "You have left" in again.text
    assert await membership.find(store, TEAM, "bob@example.org") is None


async def test_a_digest_issue_carries_each_readers_own_link(one_click_site, cli):
    """The digest issue sent to dora and to dan: each with their own link, each verifying."""
    dns = await keygen(cli)
    await post_and_copies(one_click_site, "For the digest", ("bob@example.org",))
    settings = one_click_site.daemon.settings
    await digests.send_now(one_click_site.daemon.store, settings, TEAM)
    one_click_site.daemon.delivery.wake()
    sink = one_click_site.sink
    readers = ("dora@example.org", "dan@example.org")

    def issues() -> dict[str, bytes]:
        return {a: c for a in readers for c in sink.copies_for(a) if b"Digest, Vol" in c}

    await sink.wait_for(lambda: len(issues()) == 2)
    links = {link_of(issue) for issue in issues().values()}
    assert len(links) == 2 and all(well_signed(issue, dns) for issue in issues().values())


async def test_over_plain_http_copies_carry_the_mailto_alone(site, cli):
    """Without one_click_on_http an http base_url gives the mailto form only, no List-Unsubscribe-Post, and every
    copy is the same signed bytes (signed once per post)."""
    await keygen(cli)
    copies = await post_and_copies(site, "Plain http")
    for copy in copies.values():
        msg = parsed(copy)
        assert msg["List-Unsubscribe"] == "<mailto:team-request@example.org?subject=unsubscribe>"
        assert msg["List-Unsubscribe-Post"] is None
    assert len(set(copies.values())) == 1


async def test_an_https_base_url_puts_the_https_link_in_copies(web_settings, sink, archive):
    """base_url https://lists.example.org: copies carry that URL; its path works on the server behind the proxy."""
    settings = replace(web_settings, web=replace(web_settings.web, base_url="https://lists.example.org"))
    site = await running(settings, sink, None)
    try:
        copy = (await post_and_copies(site, "Behind a proxy", ("bob@example.org",)))["bob@example.org"]
        link = link_of(copy)
        assert link.startswith("https://lists.example.org/unsubscribe/")
        async with httpx.AsyncClient(base_url=site.base, timeout=10) as client:
            answer = await client.post(httpx.URL(link).raw_path.decode(), data=ONE_CLICK)
        assert answer.status_code == 200 and "You have left" in answer.text
    finally:
        await site.daemon.stop()


async def test_a_copy_deferred_by_the_smarthost_is_personalised_again_on_the_retry(one_click_site, cli):
    """The first copy's DATA gets 451: on the next try that member still gets their own link, signed."""
    dns = await keygen(cli)
    await one_click_site.daemon.delivery.drain()  # the archive's earlier copies are out: the 451 is for this post
    one_click_site.sink.tempfail_data = 1
    everyone = (*REGULAR, "ann@example.org")  # whoever's DATA came first, their retried copy is among these
    copies = await post_and_copies(one_click_site, "Deferred once", everyone)
    assert one_click_site.sink.tempfail_data == 0  # the deferral happened
    assert len({link_of(copy) for copy in copies.values()}) == len(everyone)
    assert all(well_signed(copy, dns) for copy in copies.values())
