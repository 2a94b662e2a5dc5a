"""Header and text helpers of listserv.message on real and hostile input: they never raise."""

import doctest
import email
from email import policy

import pytest

from listserv import addresses, message
from listserv.outgoing import notices
from listserv.pipeline import decorate, msgdata
from listserv.pipeline.rules import administrivia, loop
from tests.conftest import CORPUS


@pytest.mark.parametrize("module", [message, addresses, decorate, notices, administrivia, loop, msgdata])
def test_doctests(module):
    """The doctest examples of the pure helpers hold."""
    assert doctest.testmod(module).failed == 0


def test_mbox_from_line_is_stripped():
    """A leading mbox 'From ' envelope line is not taken for a header or the body."""
    msg = message.parse(b"From ann@example.org Mon Jan  1 00:00:00 2024\nFrom: ann@example.org\nSubject: s\n\nb\n")
    assert message.sender(msg) == ("ann@example.org", "") and message.body_text(msg) == "b"


def test_headers_of_a_plain_post():
    """Subject, sender, ids and date come out decoded and normalised."""
    raw = (
        b"From: =?utf-8?q?Ren=C3=A9e?= <Renee@Example.ORG>\nSubject: =?utf-8?q?caf=C3=A9?= talk\n"
        b"Message-ID: <a@b>\nIn-Reply-To: <p@q>\nReferences: <o@q> <p@q>\nDate: Tue, 14 Nov 2023 22:13:20 +0000\n\nx\n"
    )
    msg = message.parse(raw)
    assert message.sender(msg) == ("renee@example.org", "Renée")
    assert message.subject(msg) == "café talk"
    assert (message.message_id(msg), message.in_reply_to(msg)) == ("a@b", "p@q")
    assert message.references(msg) == ["o@q", "p@q"]
    assert message.date(msg, 0.0) == 1700000000.0


def test_missing_or_bad_headers_give_fallbacks():
    """No Date -> the fallback; no From -> (None, ''); garbage Message-ID -> ''."""
    msg = message.parse(b"Subject: s\nMessage-ID: not an id\nDate: yesterday-ish\n\nx\n")
    assert message.date(msg, 42.0) == 42.0
    assert message.sender(msg) == (None, "")
    assert message.message_id(msg) == ""


def test_date_without_zone_is_utc():
    """A Date with -0000 (zone unknown) is read as UTC rather than dropped."""
    msg = message.parse(b"Date: Tue, 14 Nov 2023 22:13:20 -0000\n\nx\n")
    assert message.date(msg, 0.0) == 1700000000.0


def test_html_only_message_gives_text():
    """An HTML-only post yields its text without tags or scripts."""
    raw = (
        b"From: a@b.org\nContent-Type: text/html\n\n"
        b"<html><body><p>Case &amp; client</p><script>evil()</script></body></html>\n"
    )
    assert message.body_text(message.parse(raw)) == "Case & client"


def test_plain_part_preferred_and_attachments_skipped():
    """multipart/alternative gives the plain part; an attached text file is not body text."""
    raw = (
        b'From: a@b.org\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="X"\n\n'
        b'--X\nContent-Type: multipart/alternative; boundary="Y"\n\n'
        b"--Y\nContent-Type: text/plain\n\nplain words\n--Y\nContent-Type: text/html\n\n<p>html words</p>\n--Y--\n"
        b"--X\nContent-Type: text/plain\nContent-Disposition: attachment; filename=a.txt\n\nattached\n--X--\n"
    )
    assert message.body_text(message.parse(raw)) == "plain words"


def test_unknown_charset_is_decoded_leniently():
    """An unknown charset (ansi_x3.110-1983, a real bounce) falls back to replacement decoding."""
    raw = (CORPUS / "bounces" / "qmail_08.txt").read_bytes()
    text = message.body_text(message.parse(raw))
    assert text and isinstance(text, str)


def test_broken_multipart_boundary_still_gives_text():
    """A multipart whose boundary is missing (get_content raises KeyError) still yields text."""
    raw = (CORPUS / "cpython-email" / "msg_15.txt").read_bytes()
    msg = message.parse(raw)
    with pytest.raises(KeyError):
        msg.get_content()
    assert message.body_text(msg)
    assert "StartBoundaryNotFoundDefect" in message.defects(msg)


def test_header_fallback_when_the_parser_fails():
    """A header value that the modern parser raises on is decoded from the raw value instead."""
    msg = message.parse(b"Subject: =?utf-8?q?ok?=\n\nx\n")

    class Exploding(type(msg)):
        def get(self, name, failobj=None):
            raise IndexError("parser bug")

    msg.__class__ = Exploding
    assert message.header(msg, "Subject") == "ok"


def test_headers_listing_for_moderators():
    """headers() gives every header as [name, decoded value] in order."""
    msg = message.parse(b"From: a@b.org\nSubject: =?utf-8?q?caf=C3=A9?=\n\nx\n")
    assert message.headers(msg) == [["From", "a@b.org"], ["Subject", "café"]]


def test_raw_8bit_headers_become_real_text():
    """Unencoded 8-bit header bytes (UTF-8 or Latin-1) come out as text that encodes cleanly everywhere."""
    for raw in (b"From: Ren\xc3\xa9e <r@example.org>\nSubject: caf\xc3\xa9\n\nb\n",
                b"From: Ren\xe9e <r@example.org>\nSubject: caf\xe9\n\nb\n"):
        msg = message.parse(raw)
        assert message.subject(msg) == "café" and message.sender(msg) == ("r@example.org", "Renée")
        assert message.headers(msg) == [["From", "Renée <r@example.org>"], ["Subject", "café"]]


def test_structure_fields_are_parsed_once_and_read_as_policy_default_reads_them():
    """Content-Type and Content-Transfer-Encoding read the same as with policy.default; a common value is parsed
    once for every message, a value that names something (a filename) never shared."""
    raw = (b"From: a@example.org\r\nContent-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: 8bit\r\nSubject: s\r\n\r\nbody\r\n")
    named = raw.replace(b"charset=utf-8", b'charset=utf-8; name="smith_evaluation.txt"')
    ours, again = message.parse(raw), message.parse(raw)
    plain = email.message_from_bytes(raw, policy=policy.default)
    assert ours.get_content_type() == plain.get_content_type() and ours.get_param("charset") == "utf-8"
    assert ours["Content-Transfer-Encoding"].cte == plain["Content-Transfer-Encoding"].cte == "8bit"
    assert ours["Content-Type"] is again["Content-Type"]
    first, second = message.parse(named), message.parse(named)
    assert first["Content-Type"] is not second["Content-Type"]
    assert first.get_filename() == "smith_evaluation.txt"
