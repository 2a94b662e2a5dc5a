"""Notices: who may be answered, and what a rejection and an owner forward contain."""

import email
from email import policy

from listserv.outgoing import notices

from .conftest import compose, mailing_list


def test_automated_senders_are_never_answered():
    """Null and daemon senders, Auto-Submitted and bulk mail get no notice; a person does."""
    auto = email.message_from_bytes(compose(headers=(("Auto-Submitted", "auto-replied"),)), policy=policy.default)
    bulk = email.message_from_bytes(compose(headers=(("Precedence", "bulk"),)), policy=policy.default)
    person = email.message_from_bytes(compose(headers=(("Auto-Submitted", "no"),)), policy=policy.default)
    assert notices.is_automated("ann@example.org", "ann@example.org", auto)
    assert notices.is_automated("ann@example.org", "ann@example.org", bulk)
    assert notices.is_automated("ann@example.org", "postmaster@example.org", None)
    assert not notices.is_automated("ann@example.org", "ann@example.org", person)


def test_rejection_notice_headers_and_text():
    """A rejection comes from -owner, is auto-replied, has Date and Message-ID, and gives every reason."""
    content = notices.rejection(mailing_list(), "ann@example.org", ["first", "second"], "Hello", False, "m@x")
    note = email.message_from_bytes(content, policy=policy.default)
    assert note["From"].addresses[0].addr_spec == "team-owner@example.org" and note["To"] == "ann@example.org"
    assert note["Auto-Submitted"] == "auto-replied" and note["Date"] and note["Message-ID"]
    assert note["In-Reply-To"] == "<m@x>"
    text = note.get_content()
    assert "first" in text and "second" in text and '"Hello"' in text


def test_confidential_rejection_has_no_subject():
    """A confidential post's subject never appears in its notice."""
    content = notices.rejection(mailing_list(), "ann@example.org", ["why"], "Client secret", True)
    assert b"Client secret" not in content


def test_owner_forward_keeps_the_original_bytes():
    """The forward attaches the original (CRLF normalised, mbox line dropped) as message/rfc822."""
    original = b"From x Mon Jan  1 00:00:00 2024\r\nFrom: a@b.org\r\nSubject: s\r\n\r\n\xff raw 8-bit\r\n"
    content = notices.owner_forward(mailing_list(), original, "s")
    wrapper = email.message_from_bytes(content, policy=policy.default)
    kinds = [p.get_content_type() for p in wrapper.iter_parts()]
    assert kinds == ["text/plain", "message/rfc822"] and wrapper["Auto-Submitted"] == "auto-generated"
    assert b"From: a@b.org\nSubject: s\n\n\xff raw 8-bit" in content and b"From x Mon" not in content
