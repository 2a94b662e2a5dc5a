"""The digest message itself: a well-formed multipart/digest that the email package parses back, each post once."""

from __future__ import annotations

import email
import time
from email import policy

import pytest

from listserv import digests
from listserv.outgoing import digest_issue, notices
from listserv.pipeline.to_digest import digest_copy
from tests.bounces.helpers import post
from tests.pipeline.conftest import mailing_list


def _posts() -> list[dict]:
    bodies = [
        (post(subject="Records request", message_id="a@x"), "Ann Member", "ann@example.org"),
        ("From: bob@example.org\nSubject: Expert witness in Ohio?\nMIME-Version: 1.0\n"
         "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nCafé résumé ✓\n".encode(),
         "", "bob@example.org"),
        (b"From: cy@example.org\nSubject: no blank line\nthis line has no header separator\n", "", "cy@example.org"),
    ]
    return [
        {"content": digest_copy(raw), "sender_name": name, "sender": sender,
         "subject": email.message_from_bytes(raw)["Subject"]}
        for raw, name, sender in bodies
    ]


def _parse(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def test_a_digest_is_multipart_digest_with_the_contents_first():
    """Top level multipart/digest; part 1 text/plain contents; then one message/rfc822 per post, in order."""
    issue = _parse(digest_issue.build(mailing_list(), 2, 7, _posts()))
    assert issue.get_content_type() == "multipart/digest" and not issue.defects
    assert issue["Subject"] == "team Digest, Vol 2, Issue 7"
    assert issue["From"].addresses[0].addr_spec == "team-request@example.org"
    assert issue["Reply-To"] == "team@example.org" and issue["List-Id"] and issue["Message-ID"]
    toc, *enclosed = issue.iter_parts()
    assert toc.get_content_type() == "text/plain"
    assert [part.get_content_type() for part in enclosed] == ["message/rfc822"] * 3
    assert [part.get_content()["Subject"] for part in enclosed] == [
        "Records request", "Expert witness in Ohio?", "no blank line",
    ]
    text = toc.get_content()
    assert "1. Records request (Ann Member)" in text and "2. Expert witness in Ohio? (bob@example.org)" in text
    assert "team-request@example.org" in text and "Vol 2, Issue 7" in text


def test_eight_bit_posts_survive():
    """A post with 8-bit text is carried whole, labelled 8bit, and reads back the same."""
    raw = digest_issue.build(mailing_list(), 1, 1, _posts())
    assert b"Content-Transfer-Encoding: 8bit" in raw
    second = list(_parse(raw).iter_parts())[2].get_content()
    assert second.get_content().strip() == "Café résumé ✓"


def test_the_boundary_never_occurs_in_a_post(monkeypatch):
    """A boundary that a post happens to contain is never used."""
    tokens = iter(["clash", "fresh"])
    monkeypatch.setattr(notices.secrets, "token_hex", lambda n: next(tokens))
    posts = _posts()
    posts[0]["content"] += b"\n--=_listserv_digest_clash\n"
    raw = digest_issue.build(mailing_list(), 1, 1, posts)
    assert b'boundary="=_listserv_digest_fresh"' in raw
    assert len(list(_parse(raw).iter_parts())) == 4


def test_digest_copy_keeps_only_useful_headers():
    """Received:, Return-Path: and other routing headers are left out; folded headers stay whole; CRLF -> LF."""
    raw = (b"From x Mon Jan  1 00:00:00 2024\r\nReturn-Path: <a@b>\r\nReceived: from relay\r\n by mx\r\n"
           b"Subject: long\r\n folded\r\nFrom: a@b.org\r\nX-Secret: 1\r\n\r\nbody\r\n")
    assert digest_copy(raw) == b"Subject: long\n folded\nFrom: a@b.org\n\nbody\n"


@pytest.mark.parametrize("volume_year, now_year, expected", [(2026, 2026, (3, 5)), (2026, 2027, (4, 1))])
def test_issue_numbers_count_within_a_year(volume_year, now_year, expected):
    """Issues count up within a volume; a new calendar year starts a new volume at issue 1."""
    last = {"volume": 3, "issue": 4, "sent_at": time.mktime((volume_year, 5, 1, 12, 0, 0, 0, 0, -1))}
    assert digests.numbering(last, time.mktime((now_year, 5, 2, 12, 0, 0, 0, 0, -1))) == expected
