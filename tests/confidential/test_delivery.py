"""Leak matrix, delivery rows: who gets a confidential copy, what it looks like, and the reply-all leak guard."""

from __future__ import annotations

from listserv import digests, lists
from listserv.store import audit, held, members

from .conftest import (
    DIGEST_ENTITLED, DIGEST_NOT_ENTITLED, ENTITLED, NOT_ENTITLED, SECRET_SUBJECT, TEAM, compose, leaked, parsed,
    queued, secret,
)

OUTSIDE = ("reporter@news.example", NOT_ENTITLED)


async def test_unentitled_member_and_digest_members(store, settings, team, submit):
    """Row 'unentitled member / digest member': nina and dan get nothing, dora gets it at once, no digest carries it."""
    await submit(secret("c1@example.org"))
    await submit(compose("Workshop", "Agenda attached.\n", "o1@example.org"))
    copies = await queued(store)
    assert NOT_ENTITLED not in copies or all(not leaked(c) for c in copies[NOT_ENTITLED])
    assert len(copies[DIGEST_ENTITLED]) == 1 and "Zanzibarian" in leaked(copies[DIGEST_ENTITLED][0])
    assert DIGEST_NOT_ENTITLED not in copies
    [issue] = await digests.send_now(store, settings, TEAM)
    assert issue.posts == 1
    after = await queued(store)
    [digest] = [content for content in after[DIGEST_NOT_ENTITLED]]
    assert b"Agenda attached." in digest and leaked(digest) == []
    assert after[DIGEST_ENTITLED][-1] == digest  # dora's digest is the same, without the confidential post


async def test_member_whose_entitlement_is_removed_stops_receiving(store, team, submit):
    """`members set LIST ADDRESS confidential false` (the membership flag) takes bob off confidential copies."""
    await store.write(members.update, team.id, "bob@example.org", "confidential", 0)
    await submit(secret("c1@example.org"))
    assert "bob@example.org" not in await queued(store)


async def test_outside_cc_is_stripped_and_the_sender_and_moderators_are_told(store, team, submit):
    """Row 'outside Cc': the copies name only the list; sender and moderators get a notice naming the outsiders only."""
    raw = secret("c1@example.org", to=f"{TEAM}, Ann <ann@example.org>",
                 headers=(("Cc", ", ".join(OUTSIDE) + ", bob@example.org"), ("Mail-Followup-To", OUTSIDE[0])))
    assert await submit(raw) == {TEAM: "accepted"}
    copies = await queued(store)
    copy = parsed([c for c in copies["bob@example.org"] if b"Sensitivity" in c][0])
    assert copy["To"] == TEAM and copy["Cc"] is None and copy["Mail-Followup-To"] is None
    assert "Zanzibarian" in leaked(copy.as_bytes())  # the members still get the post itself
    assert not any(outsider in copy.as_string() for outsider in OUTSIDE)
    notices = [c for address in ("ann@example.org", "mod@example.org", "olga@example.org")
               for c in copies[address] if b"named people outside the list" in c]
    assert len(notices) == 3  # one notice, to the sender and both moderators
    text = parsed(notices[0]).get_content()
    assert all(outsider in text for outsider in OUTSIDE) and "bob@example.org" not in text
    assert leaked(notices[0]) == [] and SECRET_SUBJECT not in text
    assert (await audit.entries(store.db, team.id, action="leak-guard"))[0]["detail"].startswith("2 outside")


async def test_leak_guard_hold_holds_the_post_and_tells(store, team, submit):
    """leak_guard hold: the post waits for a moderator with the leak_guard reason; the sender is told; nothing goes out."""
    await lists.set_setting(store, TEAM, "leak_guard", "hold")
    assert await submit(secret("c1@example.org", headers=(("Cc", OUTSIDE[0]),))) == {TEAM: "held"}
    [row] = await held.waiting(store.db, team.id)
    assert [r["rule"] for r in row["reasons"]] == ["leak_guard"] and row["confidential"]
    copies = await queued(store)
    assert all(leaked(c) == [] for cs in copies.values() for c in cs)
    assert any(b"holding the post for a moderator" in c for c in copies["ann@example.org"])


async def test_approving_a_held_leak_strips_the_outsiders(store, settings, team, submit):
    """A held post approved later still goes out with To/Cc reduced to the list."""
    from listserv import moderation

    await lists.set_setting(store, TEAM, "leak_guard", "hold")
    await submit(secret("c1@example.org", headers=(("Cc", OUTSIDE[0]),)))
    [row] = await held.waiting(store.db, team.id)
    await moderation.approve(store, settings, row["id"], "mod@example.org")
    copy = parsed([c for c in (await queued(store))["bob@example.org"] if b"Sensitivity" in c][0])
    assert copy["Cc"] is None and copy["To"] == TEAM


async def test_no_notice_without_outsiders(store, team, submit):
    """To/Cc naming only entitled members and the list's own addresses: no notice, To/Cc kept."""
    raw = secret("c1@example.org", headers=(("Cc", "bob@example.org, team-owner@example.org"),))
    await submit(raw)
    copies = await queued(store)
    assert all(len(copies[address]) == 1 for address in ENTITLED)
    assert parsed(copies["bob@example.org"][0])["Cc"] == "bob@example.org, team-owner@example.org"


async def test_multipart_alternative_gets_the_notice_in_both_texts(store, team, submit):
    """A text+HTML post: the notice tops the text/plain part and the HTML body; attachments untouched."""
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = "ann@example.org", TEAM, "[CONFIDENTIAL] x", "<m@x>"
    msg.set_content("Zanzibarian plain\n")
    msg.add_alternative("<html><body><p>Zanzibarian html</p></body></html>", subtype="html")
    msg.add_attachment(b"%PDF-1.4 report", maintype="application", subtype="pdf", filename="report.pdf")
    await submit(bytes(msg))
    copy = parsed((await queued(store))["bob@example.org"][0])
    assert copy.get_body(("plain",)).get_content().startswith("Confidential thread: do not forward")
    assert "<body><p><strong>Confidential thread" in copy.get_body(("html",)).get_content()
    [attachment] = list(copy.iter_attachments())
    assert attachment.get_content() == b"%PDF-1.4 report"


async def test_signed_post_is_wrapped_not_edited(store, team, submit):
    """A PGP/MIME signed post goes out as multipart/mixed: the notice, then the signed part byte for byte."""
    signed = (
        b'Content-Type: multipart/signed; boundary="sig"; protocol="application/pgp-signature"\r\n\r\n'
        b"--sig\r\nContent-Type: text/plain\r\n\r\nZanzibarian signed text\r\n"
        b"--sig\r\nContent-Type: application/pgp-signature\r\n\r\n-----BEGIN PGP SIGNATURE-----\r\nAAAA\r\n"
        b"-----END PGP SIGNATURE-----\r\n--sig--\r\n"
    )
    head = compose("[CONFIDENTIAL] signed", "", "s@example.org").split(b"\r\n\r\n")[0]
    await submit(head + b"\r\nMIME-Version: 1.0\r\n" + signed)
    content = (await queued(store))["bob@example.org"][0]
    copy = parsed(content)
    assert copy.get_content_type() == "multipart/mixed"
    notice, inner = copy.get_payload()
    assert notice.get_content().startswith("Confidential thread")
    assert inner.get_content_type() == "multipart/signed"
    assert b"--sig\r\nContent-Type: text/plain\r\n\r\nZanzibarian signed text\r\n--sig" in content


async def test_empty_notice_setting_adds_no_notice(store, settings, team, submit):
    """confidential_notice empty: the text is left as written; the other markings stay."""
    await lists.set_setting(store, TEAM, "confidential_notice", "")
    await submit(secret("c1@example.org"))
    copy = parsed((await queued(store))["bob@example.org"][0])
    assert copy.get_content().startswith("Defendant") and copy["Sensitivity"] == "Company-Confidential"


BOUNCE = (
    b"From: MAILER-DAEMON@mx.example\r\nTo: team-bounces@example.org\r\nSubject: Undeliverable\r\n"
    b"Message-ID: <dsn1@mx.example>\r\n\r\nSorry, it did not work out.\r\n\r\n--- the message ---\r\n"
    b"Subject: [team] [CONFIDENTIAL] Quillfeather sentencing\r\nSensitivity: Company-Confidential\r\n\r\n"
    b"Defendant Zanzibarian disclosed a prior Xylophonic conviction.\r\n"
)


async def test_a_bounce_returning_a_confidential_copy_goes_to_entitled_owners_only(store, team, submit):
    """An unreadable bounce carrying a confidential copy: forwarded to the entitled owner only, else held flagged."""
    from listserv.archive import access

    rcpts = ("team-bounces@example.org",)
    assert await submit(BOUNCE, rcpts=rcpts, mail_from="") == {rcpts[0]: "forwarded"}
    assert set(await queued(store)) == {"olga@example.org"}
    await store.write(members.update, team.id, "olga@example.org", "confidential", 0)
    assert await submit(BOUNCE.replace(b"dsn1", b"dsn2"), rcpts=rcpts, mail_from="") == {rcpts[0]: "held"}
    [row] = await held.waiting(store.db, team.id)
    assert row["confidential"] and [r["rule"] for r in row["reasons"]][-1] == "confidential"
    assert access.masked(row)["subject"] == "(confidential)"


async def test_mail_to_owner_with_the_tag_reaches_entitled_owners_only(store, team, submit):
    """A tagged message to NAME-owner@ is not forwarded to an owner who is not entitled."""
    await store.write(members.update, team.id, "olga@example.org", "confidential", 0)
    rcpts = ("team-owner@example.org",)
    assert await submit(secret("c9@example.org", to=rcpts[0]), rcpts=rcpts) == {rcpts[0]: "held"}
    assert all(leaked(c) == [] for cs in (await queued(store)).values() for c in cs)


SENDS_ELSEWHERE = (
    ("Disposition-Notification-To", "a@spy.example"), ("Return-Receipt-To", "b@spy.example"),
    ("X-Confirm-Reading-To", "c@spy.example"), ("Mail-Reply-To", "d@spy.example"),
    ("Mail-Followup-To", "e@spy.example"), ("Errors-To", "f@spy.example"), ("Read-Receipt-To", "g@spy.example"),
    ("Resent-Reply-To", "h@spy.example"), ("X-Some-Vendor-Notify-To", "i@spy.example"),
)


async def test_confidential_copies_carry_no_header_that_mails_elsewhere(store, team, submit):
    """Receipt and reply redirections of a confidential post are gone from every copy, edited or wrapped."""
    signed = (b'MIME-Version: 1.0\r\nContent-Type: multipart/signed; boundary="sig"; protocol="application/pgp-'
              b'signature"\r\n\r\n--sig\r\nContent-Type: text/plain\r\n\r\nsigned\r\n--sig\r\nContent-Type: '
              b"application/pgp-signature\r\n\r\nAAAA\r\n--sig--\r\n")
    await submit(secret("c1@example.org", headers=SENDS_ELSEWHERE))
    head = compose("[CONFIDENTIAL] signed", "", "s@example.org", headers=SENDS_ELSEWHERE).split(b"\r\n\r\n")[0]
    await submit(head + b"\r\n" + signed)
    copies = (await queued(store))["bob@example.org"]
    assert len(copies) == 2
    for content in copies:
        assert b"spy.example" not in content
        assert parsed(content)["Reply-To"] == "team+confidential@example.org"


async def test_ordinary_posts_keep_their_receipt_headers(store, team, submit):
    """The drop is for confidential copies only: an ordinary post's headers are the sender's business."""
    await submit(compose(headers=SENDS_ELSEWHERE[:1]))
    assert b"a@spy.example" in (await queued(store))["bob@example.org"][0]
