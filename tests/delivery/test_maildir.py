"""The maildir transport: one complete file per recipient in new/, headers saying who got it and from whom."""

from __future__ import annotations

import email
import os
import resource

import pytest

from listserv.delivery import TransportError
from listserv.delivery.maildir import BAD_ADDRESS, DELIVERED, MaildirTransport
from tests.delivery.helpers import BOUNCES, POST


def copies(path) -> list[bytes]:
    return [entry.read_bytes() for entry in sorted((path / "new").iterdir())]


async def test_one_file_per_recipient_with_delivered_to_and_envelope_from(tmp_path):
    """Two recipients: two files in new/, each the post with Delivered-To and X-Listserv-Envelope-From on top."""
    outbox = tmp_path / "outbox"
    results = await MaildirTransport(outbox).send(BOUNCES, ["ann@example.org", "bob@example.org"], POST)
    assert results == {"ann@example.org": DELIVERED, "bob@example.org": DELIVERED}
    written = copies(outbox)
    assert len(written) == 2
    for raw in written:
        head, _, rest = raw.partition(b"\r\n")
        assert head in (b"Delivered-To: ann@example.org", b"Delivered-To: bob@example.org")
        assert rest == b"X-Listserv-Envelope-From: " + BOUNCES.encode() + b"\r\n" + POST
    assert sorted(email.message_from_bytes(raw)["Delivered-To"] for raw in written) == ["ann@example.org", "bob@example.org"]
    assert sorted(p.name for p in outbox.iterdir()) == ["cur", "new", "tmp"]
    assert list((outbox / "tmp").iterdir()) == []


async def test_headers_follow_the_messages_line_endings(tmp_path):
    """A message with bare LF line endings gets its added headers with LF too, so the file parses."""
    content = POST.replace(b"\r\n", b"\n")
    await MaildirTransport(tmp_path).send("", ["ann@example.org"], content)
    (raw,) = copies(tmp_path)
    assert raw == b"Delivered-To: ann@example.org\nX-Listserv-Envelope-From: <>\n" + content


async def test_file_names_are_unique_for_many_copies(tmp_path):
    """200 copies in one batch never overwrite each other."""
    recipients = [f"m{n}@example.org" for n in range(200)]
    await MaildirTransport(tmp_path).send(BOUNCES, recipients, POST)
    assert len(os.listdir(tmp_path / "new")) == 200


async def test_a_recipient_that_would_inject_a_header_is_refused(tmp_path):
    """An address carrying CR/LF gets 553 and no file; the other recipient is written."""
    evil = "ann@example.org\r\nBcc: eve@example.org"
    results = await MaildirTransport(tmp_path).send(BOUNCES, [evil, "bob@example.org"], POST)
    assert results[evil] == BAD_ADDRESS and results["bob@example.org"] == DELIVERED
    (raw,) = copies(tmp_path)
    assert raw.startswith(b"Delivered-To: bob@example.org\r\n")


async def test_a_sender_that_would_inject_a_header_is_a_transport_error(tmp_path):
    """A bad envelope sender is nobody's recipient failure: the whole batch waits (TransportError)."""
    with pytest.raises(TransportError, match="envelope sender"):
        await MaildirTransport(tmp_path).send("x@example.org\nBcc: eve@example.org", ["ann@example.org"], POST)


async def test_an_unusable_maildir_path_is_a_transport_error(tmp_path):
    """The path is a plain file, so no maildir can be made there: TransportError naming the path."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(TransportError, match=f"cannot create maildir {blocker}"):
        await MaildirTransport(blocker).send(BOUNCES, ["ann@example.org"], POST)


async def test_a_failing_write_defers_that_recipient_and_the_rest(tmp_path):
    """A write the OS refuses (file too large, as a full disk would) defers that copy and the rest with 451."""
    short, long_, last = "a@example.org", "a-much-longer-address-than-the-first@example.org", "b@example.org"
    fits = len(b"Delivered-To: \r\nX-Listserv-Envelope-From: \r\n" + BOUNCES.encode() + POST + short.encode())
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (fits + 5, limits[1]))  # Python ignores SIGXFSZ: writes get EFBIG
    try:
        results = await MaildirTransport(tmp_path).send(BOUNCES, [short, long_, last], POST)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
    assert results[short] == DELIVERED
    assert results[long_] == results[last] == (451, "4.3.0 cannot write to the maildir: File too large")
    assert len(copies(tmp_path)) == 1
    assert list((tmp_path / "tmp").iterdir()) == []  # the partial file was removed


async def test_an_empty_batch_writes_nothing(tmp_path):
    """No recipients: no maildir is even created."""
    assert await MaildirTransport(tmp_path / "outbox").send(BOUNCES, [], POST) == {}
    assert not (tmp_path / "outbox").exists()
