"""notices.without_subjects: a queued notice loses the subjects of posts re-marked confidential, or is withdrawn."""

from __future__ import annotations

import email
from email import policy

from listserv.outgoing import notices, owner_mail
from listserv.list_settings import ListSettings
from listserv.lists import MailingList

SUBJECT = "Re: Quillfeather hearing"
MLIST = MailingList(1, "team@example.org", "", ListSettings.from_stored({}))


def _text(content: bytes) -> str:
    return email.message_from_bytes(content, policy=policy.default).get_content()


def test_subject_in_the_text_is_replaced():
    """The held notice's Subject line keeps its place, with the hidden-subject words instead of the subject."""
    note = owner_mail.plain(MLIST, "team-owner@example.org", "team: post held (1)",
                            ["A post is waiting.", f"  Subject:   {SUBJECT}", "  From: x@y.example"])
    rewritten = notices.without_subjects(note, [SUBJECT])
    assert f"  Subject:   {notices.HIDDEN_SUBJECT}" in _text(rewritten) and "Quillfeather" not in _text(rewritten)
    assert "x@y.example" in _text(rewritten)


def test_subject_in_the_notice_header_is_replaced():
    """A notice titled with the subject (a rejection quoting it) gets a Subject header without it."""
    note = owner_mail.plain(MLIST, "x@y.example", f'About "{SUBJECT}"', ["Rejected."])
    rewritten = notices.without_subjects(note, [SUBJECT])
    assert b"Quillfeather" not in rewritten


def test_a_notice_without_the_subject_is_left_as_it_is():
    """Nothing to hide: the very same bytes (a word of the subject alone does not count)."""
    note = owner_mail.plain(MLIST, "x@y.example", "Reminder", ["Quillfeather is a word; the subject is not here."])
    assert notices.without_subjects(note, [SUBJECT]) == note
    assert notices.without_subjects(note, ["", "  "]) == note


def test_a_subject_inside_a_forwarded_message_withdraws_the_notice():
    """The subject in an enclosed message (an owner forward) cannot be rewritten: None, the notice is withdrawn."""
    raw = f"From: x@y.example\nSubject: {SUBJECT}\nMessage-ID: <h1@y.example>\n\nHello\n".encode()
    note = notices.owner_forward(MLIST, raw, "")
    assert notices.without_subjects(note, [SUBJECT]) is None
