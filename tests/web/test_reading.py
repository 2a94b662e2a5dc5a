"""Reading the archive on the web over real HTTP: attachments as safe downloads, quoted text folded, reply links,
threads indented by reply, and the thread list paged by keyset."""

from __future__ import annotations

import base64
import contextlib
import html
import re
from urllib.parse import unquote

import pytest

from listserv import audit
from listserv.archive import access
from listserv.store import search_index
from tests.confidential.conftest import NOT_ENTITLED, TEAM, compose, leaked, reply

SCRIPT_PAGE = b"<html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
FILES = (  # (Content-Type and Content-Disposition parameters, payload): parts 1-6 of archive:3
    ('text/html; name="report.html"', 'attachment; filename="report.html"', SCRIPT_PAGE),
    ("image/svg+xml", 'attachment; filename="chart.svg"', SVG),
    ("image/png", 'attachment; filename="photo.png"', PNG),
    ("text/plain", 'attachment; filename="../../etc/passwd"', b"root:x:0:0\n"),
    ("application/pdf", "attachment; filename*=UTF-8''memo%0D%0ASet-Cookie%3A%20a%3Db.pdf", b"%PDF-1.4 memo"),
    ("application/pdf", "attachment; filename*=UTF-8''invoice%E2%80%AEfdp.exe", b"%PDF-1.4 invoice"),
)
QUOTING = (
    "I agree with Ann.\n\nOn Mon, 13 Nov 2023 at 22:13, Ann Member <ann@example.org> wrote:\n"
    "> A public memo template.\n>\n> Use it freely.\n\nThanks, Bob\n"
)


def with_files(message_id: str, subject: str, files=FILES, when: float = 1700000100.0) -> bytes:
    """A post of ann's with a text part and the given attachments, as a mail program would send it."""
    parts = ["Content-Type: text/plain; charset=utf-8\r\n\r\nSee the files attached.\r\n"]
    for content_type, disposition, payload in files:
        encoded = base64.encodebytes(payload).decode().replace("\n", "\r\n")
        parts.append(f"Content-Type: {content_type}\r\nContent-Disposition: {disposition}\r\n"
                     f"Content-Transfer-Encoding: base64\r\n\r\n{encoded}")
    body = "".join(f"--sep\r\n{part}\r\n" for part in parts) + "--sep--\r\n"
    head = compose(subject, "", message_id, when=when, headers=(("MIME-Version", "1.0"),
                                                                 ("Content-Type", 'multipart/mixed; boundary="sep"')))
    return head.rstrip(b"\r\n") + b"\r\n\r\n" + body.encode()


@pytest.fixture
async def archive(archive, submit):
    """The web archive (archive:1 confidential, archive:2 the memo) and, each a minute after the one before:
    archive:3 a post with hostile attachments; archive:4 a confidential post with one attachment; archive:5 bob's
    reply to the memo quoting it; archive:6 ann's reply to bob's."""
    await submit(with_files("files@example.org", "Files for the memo"))
    await submit(with_files("cfiles@example.org", "[CONFIDENTIAL] Quillfeather records", FILES[3:4], 1700000160.0))
    await submit(reply("r1@example.org", "o1@example.org", body=QUOTING, sender="Bob <bob@example.org>",
                       when=1700000220.0), mail_from="bob@example.org")
    await submit(reply("r2@example.org", "r1@example.org", refs="<o1@example.org> <r1@example.org>",
                       body="Agreed.\n", when=1700000280.0))
    return archive


@contextlib.asynccontextmanager
async def logged_in(site, address: str):
    """A browser-like client logged in as address."""
    async with site.client() as client:
        await site.login(client, address)
        yield client


async def test_the_post_page_lists_attachments_with_size_and_link(site):
    """archive:3's page lists its six attachments, each linked to /parts/N with its type and size, under the name
    it downloads as (no path, no direction override)."""
    async with logged_in(site, "ann@example.org") as client:
        page = await client.get(f"/lists/{TEAM}/messages/3")
    assert page.status_code == 200
    links = re.findall(rf'href="/lists/{TEAM}/messages/3/parts/(\d+)"', page.text)
    assert links == ["1", "2", "3", "4", "5", "6"]
    assert "report.html" in page.text and "image/svg+xml, 71 bytes" in page.text
    assert "invoicefdp.exe" in page.text and "\u202e" not in page.text and "etc/passwd" not in page.text


async def test_html_and_svg_download_as_opaque_bytes(site):
    """An HTML and an SVG attachment come back byte for byte as application/octet-stream, as an attachment,
    with nosniff and a sandboxing CSP: nothing of them can run in the page's origin."""
    async with logged_in(site, "ann@example.org") as client:
        answers = [await client.get(f"/lists/{TEAM}/messages/3/parts/{n}") for n in (1, 2)]
    for answer, payload in zip(answers, (SCRIPT_PAGE, SVG)):
        assert answer.status_code == 200 and answer.content == payload
        assert answer.headers["content-type"] == "application/octet-stream"
        assert answer.headers["content-disposition"].startswith("attachment;")
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in answer.headers.get_list("content-security-policy")[0]
    assert "filename*=UTF-8''report.html" in answers[0].headers["content-disposition"]


async def test_a_plain_image_keeps_its_type_but_is_still_a_download(site):
    """A PNG is served as image/png, still with Content-Disposition: attachment."""
    async with logged_in(site, "ann@example.org") as client:
        answer = await client.get(f"/lists/{TEAM}/messages/3/parts/3")
    assert answer.status_code == 200 and answer.content == PNG
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["content-disposition"] == (
        "attachment; filename=\"photo.png\"; filename*=UTF-8''photo.png")


async def test_file_names_lose_paths_line_breaks_and_direction_overrides(site):
    """A path-traversal name keeps only its last part; a name with CR/LF neither breaks the header nor adds
    one; a right-to-left override is dropped, so the name reads as it really ends."""
    async with logged_in(site, "ann@example.org") as client:
        answers = {n: await client.get(f"/lists/{TEAM}/messages/3/parts/{n}") for n in (4, 5, 6)}
    names = {n: unquote(a.headers["content-disposition"].split("filename*=UTF-8''")[1]) for n, a in answers.items()}
    assert names == {4: "passwd", 5: "memo Set-Cookie_ a=b.pdf", 6: "invoicefdp.exe"}
    assert "set-cookie" not in answers[5].headers and answers[4].content == b"root:x:0:0\n"
    assert all("\r" not in a.headers["content-disposition"] and "/" not in names[n] for n, a in answers.items())
    assert all(a.headers["content-type"] == "application/octet-stream" for a in answers.values())


async def test_a_confidential_attachment_is_404_for_the_not_entitled_and_audited_for_the_entitled(site):
    """nina gets for archive:4's attachment exactly the 404 of a missing page, and nothing is audited; bob gets
    the file, and the read is an audit row naming him."""
    async with logged_in(site, NOT_ENTITLED) as client:
        missing = await client.get(f"/lists/{TEAM}/messages/999/parts/1")
        hidden = await client.get(f"/lists/{TEAM}/messages/4/parts/1")
    assert missing.status_code == 404 and (hidden.status_code, hidden.text) == (404, missing.text)
    assert await audit.entries(site.daemon.store, TEAM, action=access.READ) == []
    async with logged_in(site, "bob@example.org") as client:
        shown = await client.get(f"/lists/{TEAM}/messages/4/parts/1")
    assert shown.status_code == 200 and shown.content == b"root:x:0:0\n"
    [entry] = await audit.entries(site.daemon.store, TEAM, action=access.READ)
    assert (entry["actor"], entry["object"], entry["detail"]) == ("bob@example.org", "archive:4",
                                                                  "attachment as bob@example.org")


async def test_a_part_that_does_not_exist_is_404(site):
    """Part 0, part 7 of a six-part post, a post without attachments, a non-number: all the same 404."""
    async with logged_in(site, "ann@example.org") as client:
        missing = await client.get(f"/lists/{TEAM}/messages/999/parts/1")
        answers = [await client.get(f"/lists/{TEAM}/messages/{path}")
                   for path in ("3/parts/0", "3/parts/7", "2/parts/1", "3/parts/x", "3/parts/-1")]
    assert all((a.status_code, a.text) == (404, missing.text) for a in answers)


async def test_another_lists_member_cannot_download(site):
    """olive (member of other@ only) gets 404 for an ordinary post's attachment."""
    async with logged_in(site, "olive@example.org") as client:
        answer = await client.get(f"/lists/{TEAM}/messages/3/parts/3")
    assert answer.status_code == 404 and answer.content != PNG


async def test_quoted_text_is_folded_with_its_attribution_line(site):
    """bob's reply shows his own lines, and the quote with its "On ... wrote:" line inside <details> whose
    summary counts its lines, on the post's page and on the thread's."""
    thread = (await search_index.fields(site.daemon.store.db, 5))["thread_id"]
    async with logged_in(site, "ann@example.org") as client:
        pages = [await client.get(f"/lists/{TEAM}/messages/5"), await client.get(f"/lists/{TEAM}/threads/{thread}")]
    for page in pages:
        folded = re.search(r"<details[^>]*><summary>quoted text \((\d+) lines\)</summary><pre>(.*?)</pre></details>",
                           page.text, re.S)
        assert folded and folded.group(1) == "4"
        assert html.unescape(folded.group(2)).startswith("On Mon, 13 Nov 2023 at 22:13, Ann Member <ann@example.org>")
        assert "&gt; Use it freely." in folded.group(2)
        before, after = page.text.split(folded.group(0))
        assert "I agree with Ann." in before and "Thanks, Bob" in after


def reply_links(text: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'class="reply" href="([^"]+)"', text)]


async def test_the_reply_link_answers_the_post_in_its_thread(site):
    """The memo's reply link mails the list with the subject "Re: ..." and In-Reply-To naming the memo, every
    value percent-encoded (RFC 6068)."""
    async with logged_in(site, "ann@example.org") as client:
        page = await client.get(f"/lists/{TEAM}/messages/2")
    assert reply_links(page.text) == [
        "mailto:team@example.org?subject=Re%3A%20Memo%20template&In-Reply-To=%3Co1%40example.org%3E"]


async def test_a_confidential_posts_reply_link_goes_to_the_confidential_address(site):
    """archive:1's reply link goes where its list copies' Reply-To points (team+confidential@), so the reply stays
    in the confidential thread."""
    async with logged_in(site, "bob@example.org") as client:
        page = await client.get(f"/lists/{TEAM}/messages/1")
    [link] = reply_links(page.text)
    assert link.startswith("mailto:team+confidential@example.org?subject=Re%3A%20%5BCONFIDENTIAL%5D%20")
    assert link.endswith("&In-Reply-To=%3Cc1%40example.org%3E")


async def test_a_thread_is_one_page_indented_by_reply_depth(site):
    """The memo's thread shows its three posts whole, each with its reply link, indented 0, 1, 2 by reply."""
    thread = (await search_index.fields(site.daemon.store.db, 2))["thread_id"]
    async with logged_in(site, "ann@example.org") as client:
        page = await client.get(f"/lists/{TEAM}/threads/{thread}")
    assert page.status_code == 200
    posts = re.findall(r'<li class="d(\d+)[^"]*" id="post-(\d+)">', page.text)
    assert posts == [("0", "2"), ("1", "5"), ("2", "6")]
    assert "A public memo template." in page.text and "Agreed." in page.text
    assert len(reply_links(page.text)) == 3 and 'class="banner"' not in page.text


async def test_a_confidential_thread_page_bears_a_banner_per_post_and_is_audited(site):
    """bob opens archive:1's thread: the post under a confidential banner, its reply link to the confidential
    address, and an audit row naming him."""
    thread = (await search_index.fields(site.daemon.store.db, 1))["thread_id"]
    async with logged_in(site, "bob@example.org") as client:
        page = await client.get(f"/lists/{TEAM}/threads/{thread}")
    assert page.status_code == 200 and page.text.count('class="banner"') == 1 and "Zanzibarian" in page.text
    assert reply_links(page.text)[0].startswith("mailto:team+confidential@example.org?")
    [entry] = await audit.entries(site.daemon.store, TEAM, action=access.READ)
    assert (entry["object"], entry["detail"]) == ("archive:1", "thread as bob@example.org")


async def test_the_thread_list_pages_by_cursor(site):
    """ann's first page (four threads) has no Older link; the page before archive:6 (the latest post of the newest
    thread) holds the three others and links back to newer ones; a cursor that is not a number is 404."""
    async with logged_in(site, "ann@example.org") as client:
        first = await client.get(f"/lists/{TEAM}/")
        older = await client.get(f"/lists/{TEAM}/", params={"before": 6})
        bad = await client.get(f"/lists/{TEAM}/", params={"before": "6; drop"})
    assert first.status_code == 200 and first.text.count(f'<a href="/lists/{TEAM}/threads/') == 4
    assert "?before=" not in first.text and "?after=" not in first.text
    assert older.status_code == 200 and older.text.count(f'<a href="/lists/{TEAM}/threads/') == 3
    assert f'href="/lists/{TEAM}/?after=4"' in older.text and bad.status_code == 404


async def test_a_confidential_cursor_tells_the_not_entitled_nothing(site):
    """nina's page before the confidential archive:4 is the same as before a number that does not exist."""
    async with logged_in(site, NOT_ENTITLED) as client:
        hidden = await client.get(f"/lists/{TEAM}/", params={"before": 4})
        missing = await client.get(f"/lists/{TEAM}/", params={"before": 999})
    assert hidden.status_code == missing.status_code == 200 and hidden.text == missing.text
    assert leaked(hidden.text) == []
