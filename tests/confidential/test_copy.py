"""The confidential copy on its own: the notice in each kind of body, the byte-exact wrap, and the log filter."""

from __future__ import annotations

import functools
import logging

from listserv import logscrub
from listserv.confidential import copy as confidential_copy
from listserv.confidential.markers import envelope_confidential, has_tag

from .conftest import parsed

NOTICE = "Confidential thread: do not forward outside the list."


def test_plain_text_gets_the_notice_on_top():
    """text/plain: the notice, a blank line, then the text; format=flowed kept."""
    raw = b'Subject: x\nContent-Type: text/plain; charset="us-ascii"; format=flowed\n\nHello\n'
    copy = parsed(confidential_copy.with_notice(raw, NOTICE))
    assert copy.get_content() == f"{NOTICE}\n\nHello\n" and copy.get_param("format") == "flowed"


def test_unknown_charset_is_wrapped_byte_for_byte():
    """A text part the email package cannot decode: wrapped, its bytes untouched."""
    raw = b"Subject: x\r\nContent-Type: text/plain; charset=x-nonsense\r\n\r\n\xe9t\xe9\r\n"
    out = confidential_copy.with_notice(raw, NOTICE)
    copy = parsed(out)
    assert copy.get_content_type() == "multipart/mixed" and copy["Subject"] == "x"
    notice, original = copy.get_payload()
    assert notice.get_content().strip() == NOTICE
    assert original.get_content_charset() == "x-nonsense" and b"\r\n\r\n\xe9t\xe9\r\n--" in out


def test_html_only_and_non_ascii_notice():
    """text/html without a <body>: the notice is the first paragraph, escaped; a non-ASCII notice survives."""
    raw = b"Subject: x\nContent-Type: text/html\n\n<p>Bonjour</p>\n"
    copy = parsed(confidential_copy.with_notice(raw, "Confidentiel : ne pas transférer <hors liste>"))
    assert copy.get_content().startswith("<p><strong>Confidentiel : ne pas transférer &lt;hors liste&gt;</strong></p>")


def test_message_without_text_is_wrapped_with_a_non_ascii_notice():
    """Only an attachment: wrapped, the notice part in base64 UTF-8."""
    raw = b"Subject: x\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERg==\n"
    notice, original = parsed(confidential_copy.with_notice(raw, "Vertraulich – nicht weiterleiten")).get_payload()
    assert notice.get_content().strip() == "Vertraulich – nicht weiterleiten"
    assert original.get_content() == b"%PDF"


def test_empty_notice_changes_nothing():
    """No notice configured: the bytes are returned as they are."""
    raw = b"Subject: x\n\nHello\n"
    assert confidential_copy.with_notice(raw, "  ") == raw


def test_headers_for_a_copy():
    """Subject tagged, Sensitivity, Reply-To +confidential, Mail-Followup-To removed; To/Cc only with outsiders."""
    from tests.pipeline.conftest import mailing_list

    new = [("List-Id", "<team.example.org>"), ("Subject", "[team] Re: x"), ("Reply-To", "team@example.org")]
    plain = dict(confidential_copy.headers(mailing_list(), new, []))
    assert plain["Subject"] == "[CONFIDENTIAL] [team] Re: x" and plain["Sensitivity"] == "Company-Confidential"
    assert plain["Reply-To"] == "team+confidential@example.org" and plain["Mail-Followup-To"] is None
    assert "To" not in plain and "Cc" not in plain
    guarded = dict(confidential_copy.headers(mailing_list(), new, ["x@elsewhere.example"]))
    assert guarded["To"] == "team@example.org" and guarded["Cc"] is None


def test_markers_helpers():
    """Tag matching ignores case and width; a +confidential recipient marks the envelope."""
    assert has_tag("RE: ［confidential］ x", "[CONFIDENTIAL]") and not has_tag("x", "")
    assert envelope_confidential(["Team+Confidential@example.org"])
    assert not envelope_confidential(["team@example.org", "team-request@example.org"])


def test_log_filter_drops_data_lines_and_sql_parameters(caplog):
    """With the filter installed, aiosmtpd's DATA lines vanish and aiosqlite names only the call."""
    logscrub.install()
    logscrub.install()  # idempotent
    caplog.set_level(logging.DEBUG)
    logging.getLogger("mail.log").debug("DATA readline: %s", b"Subject: Zanzibarian")
    logging.getLogger("mail.log").info("%r sender: %s", ("127.0.0.1", 1), "ann@example.org")
    logging.getLogger("aiosqlite").debug("executing %s", functools.partial(print, "INSERT ?", ("Zanzibarian",)))
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "Zanzibarian" not in text and "executing print" in text and "sender: ann@example.org" in text
    assert logging.getLogger("aiosqlite").filters.count(logscrub._FILTER) == 1
