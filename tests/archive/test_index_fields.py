"""What a post gives the index: its own words (no quotes, attributions, signatures) and its attachment names."""

from __future__ import annotations

import json
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from listserv.archive.search import attachment_names, index_fields, searchable_text
from tests.conftest import CORPUS

OWN_TEXT = [
    # body_text, what is indexed
    ("Plain post.\nSecond line.", "Plain post.\nSecond line."),
    ("Reply on top.\n\nOn Mon, 2 Jan 2023 at 10:00, Ann Lee <ann@x.org> wrote:\n> her question\n> more",
     "Reply on top."),
    ("On Mon, 2 Jan 2023 at 10:00, Ann Lee <\nann@x.org> wrote:\n> her question\n\nMy answer below.",
     "My answer below."),
    ("> first quote\nanswer one\n>> deeper quote\n > indented quote\nanswer two", "answer one\nanswer two"),
    ("Bob Smith writes:\n> quoted\nreply", "reply"),
    ("Am 02.01.2023 schrieb Jörg:\n> zitiert\nAntwort", "Antwort"),
    ("Le 2 janv. 2023, Zoë a écrit :\n> cité\nréponse", "réponse"),
    ("Answer.\n-- \nBob Smith\nFederal Defender\n555-0100", "Answer."),
    ("Answer.\r\n-- \r\nsignature", "Answer."),
    ("Answer.\n\n-----Original Message-----\nFrom: Ann\nSent: Monday\nSubject: q\n\nold text", "Answer."),
    ("Answer.\n\nFrom: Ann Lee\nSent: Monday, 2 January 2023 10:00\nTo: list\n\nold text", "Answer."),
    ("FYI below.\n\n---------- Forwarded message ---------\nFrom: Clerk\nDate: Mon\n\nforwarded text",
     "FYI below.\n\n---------- Forwarded message ---------\nFrom: Clerk\nDate: Mon\n\nforwarded text"),
    ("Costs >= 3 hours and --5 is not a signature.\n--\nstill text", "Costs >= 3 hours and --5 is not a signature.\n--\nstill text"),
    ("He wrote: the report is late.", "He wrote: the report is late."),
    ("", ""),
    ("> only a quote", ""),
]


@pytest.mark.parametrize("body, own", OWN_TEXT)
def test_searchable_text_keeps_only_the_senders_own_words(body, own):
    """Quoted lines, the attribution before them, Outlook's quoted original and the signature are left out."""
    assert searchable_text(body) == own


def test_attachment_names_lists_files_enclosed_messages_and_unnamed_parts():
    """Named files, unnamed attachments and forwarded messages are listed; signatures and inline text are not."""
    msg = EmailMessage()
    msg["Subject"] = "records"
    msg.set_content("see the attached evaluation")
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="psych eval 2023.pdf")
    msg.add_attachment(b"\x00\x01", maintype="application", subtype="octet-stream")
    forwarded = EmailMessage()
    forwarded["Subject"] = "Original question"
    forwarded.set_content("old text")
    msg.add_attachment(forwarded)
    msg.add_attachment(b"-----BEGIN PGP SIGNATURE-----", maintype="application", subtype="pgp-signature",
                       filename="signature.asc")
    assert attachment_names(msg) == [
        "psych eval 2023.pdf", "(unnamed application/octet-stream)", "Original question.eml",
    ]


def test_attachment_names_are_one_line():
    """A file name with an encoded line break is stored on one line (names are newline-separated)."""
    raw = (
        b"Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\n"
        b"Content-Type: text/plain\n\nhello\n--B\nContent-Type: application/pdf\n"
        b"Content-Disposition: attachment; filename*=utf-8''psych%0A%0Deval%09%202023.pdf\n\n"
        b"data\n--B--\n"
    )
    assert attachment_names(BytesParser(policy=policy.default).parsebytes(raw)) == ["psych eval 2023.pdf"]


def test_attachment_names_survive_hostile_parameters():
    """A Content-Disposition the parser cannot read still counts as an attachment, never an exception."""
    raw = (
        b"Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\n"
        b"Content-Type: text/plain\n\nhello\n--B\nContent-Type: application/octet-stream\n"
        b"Content-Disposition: attachment; filename*=utf-8''%FF%FE%00bad; filename*0=\"x\n\n"
        b"data\n--B--\n"
    )
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    names = attachment_names(msg)
    assert len(names) == 1 and "\n" not in names[0]


def _corpus_messages():
    folder = CORPUS / "cpython-email"
    return sorted(folder.glob("msg_*.txt"))


@pytest.mark.parametrize("path", _corpus_messages(), ids=lambda p: p.name)
def test_index_fields_never_fail_on_the_corpus(path):
    """Every real message of the corpus (several malformed on purpose) yields index fields without raising."""
    raw = path.read_bytes()
    if raw.startswith(b"From "):
        raw = raw.partition(b"\n")[2]
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    fields = index_fields(msg, "text\n> quoted")
    assert fields["search_text"] == "text"
    assert all(name and "\n" not in name for name in fields["attachments"].split("\n") if fields["attachments"])


EXPECTED = {
    "msg_07.txt": ["dingusfish.gif"],
    "msg_22.txt": ["wibble.JPG", "wibble2.JPG"],
    "msg_26.txt": ["clock.bmp"],
    "msg_45.txt": [],  # multipart/signed: the signature part is not an attachment
    "msg_01.txt": [],
}


@pytest.mark.parametrize("name, names", EXPECTED.items())
def test_attachment_names_of_corpus_messages(name, names):
    """Known corpus messages list exactly their attached files."""
    raw = (CORPUS / "cpython-email" / name).read_bytes()
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert attachment_names(msg) == names


def test_corpus_is_present():
    """The shared corpus is where the table expects it (a missing corpus must fail, not skip)."""
    manifest = json.loads((CORPUS / "cpython-email" / "manifest.json").read_text())
    assert len(_corpus_messages()) >= 40 and manifest


def test_index_fields_without_a_parsed_message():
    """An unparseable post (no message object) still gets its own words indexed and no attachments."""
    assert index_fields(None, "Own words.\n-- \nsig") == {"search_text": "Own words.", "attachments": ""}
