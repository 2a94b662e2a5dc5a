"""Issue 8, items 1 and 5, as an attacker would try them: the real daemon over loopback SMTP, then what each
kind of recipient got (entitled member, non-entitled member, non-entitled owner, the outsider in Cc).

Recipients: ann (owner, entitled), otto (owner, not entitled), bob (entitled), nina (not entitled); the
outsider reporter@news.example is only ever named in headers.
"""

from __future__ import annotations

import asyncio
import base64
import email
from email import policy

import aiosmtplib

from tests.e2e.helpers import send

from .conftest import NOT_ENTITLED, SECRET_BODY, TEAM, compose, leaked, parsed, secret

OWNER, BOUNCES, REQUEST = "team-owner@example.org", "team-bounces@example.org", "team-request@example.org"
OUTSIDER = "reporter@news.example"
NOT_ENTITLED_OWNER = "otto@example.org"


async def make_team(cli) -> None:
    steps = [
        ("lists", "create", TEAM),
        ("members", "add", TEAM, "ann@example.org", "--role", "owner"),
        ("members", "add", TEAM, NOT_ENTITLED_OWNER, "--role", "owner", "--no-confidential"),
        ("members", "add", TEAM, "bob@example.org"),
        ("members", "add", TEAM, NOT_ENTITLED, "--no-confidential"),
    ]
    for step in steps:
        assert (await cli(*step)).exit_code == 0


async def posted_secret(server, sink, cli) -> None:
    """ann's confidential post c1 (with the outsider in Cc), delivered to ann and bob."""
    await make_team(cli)
    await send(server.port, secret("c1@example.org", headers=(("Cc", OUTSIDER),)), "ann@example.org")
    await sink.wait_for(lambda: len(sink.copies_for("bob@example.org")) >= 1)


async def quiet(sink, address: str, count: int) -> None:
    """Wait until address has count copies, then a moment more, so a stray copy to someone else shows."""
    await sink.wait_for(lambda: len(sink.copies_for(address)) >= count)
    await asyncio.sleep(0.4)


def readable(copy: bytes) -> str:
    """Everything a person could read in a copy: its bytes, and every part decoded (base64, quoted-printable),
    enclosed messages included, so an encoded leak is found too."""
    texts = [copy.decode("latin-1")]
    pending = [email.message_from_bytes(copy, policy=policy.compat32)]
    while pending:
        part = pending.pop()
        payload = part.get_payload()
        if isinstance(payload, list):
            pending += payload
            continue
        data = part.get_payload(decode=True) or b""
        texts.append(data.decode("utf-8", "replace"))
        if data[:200].lstrip().split(b":", 1)[0].replace(b"-", b"").isalnum():  # an encoded whole message
            pending.append(email.message_from_bytes(data, policy=policy.compat32))
    return "\n".join(texts)


def nothing_leaked(sink) -> None:
    for address in (NOT_ENTITLED_OWNER, NOT_ENTITLED, OUTSIDER):
        assert [leaked(readable(copy)) for copy in sink.copies_for(address) if leaked(readable(copy))] == [], address


async def test_owner_mail_replying_to_a_confidential_post(server, sink, cli):
    """A member's reply to a confidential post sent to -owner, quoting it: ann gets it, otto never does."""
    await posted_secret(server, sink, cli)
    before = len(sink.copies_for("ann@example.org"))
    raw = compose("Re: your post", f"> {SECRET_BODY}\nCan the owners help?\n", "o1@example.org",
                  sender="Bob <bob@example.org>", to=OWNER, headers=(("In-Reply-To", "<c1@example.org>"),))
    await send(server.port, raw, "bob@example.org", (OWNER,))
    await quiet(sink, "ann@example.org", before + 1)
    assert "Zanzibarian" in leaked(sink.copies_for("ann@example.org")[-1])
    nothing_leaked(sink)


async def test_bounce_quoting_the_confidential_copy_in_base64(server, sink, cli):
    """An unattributable bounce returning the copy base64-encoded in a text/plain part: ann only."""
    await posted_secret(server, sink, cli)
    before = len(sink.copies_for("ann@example.org"))
    returned = (b"Message-ID: <c1@example.org>\r\nSubject: [team] Re: follow-up\r\n\r\n" + SECRET_BODY.encode())
    raw = (b"From: MAILER-DAEMON@mx.example\r\nTo: " + BOUNCES.encode() + b"\r\nSubject: failure\r\n"
           b"Message-ID: <dsn1@mx.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(b"It failed:\r\n" + returned))
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=server.port) as client:  # null sender, as MTAs bounce
        await client.sendmail("", [BOUNCES], raw)
    await quiet(sink, "ann@example.org", before + 1)
    assert b"dsn1@mx.example" in sink.copies_for("ann@example.org")[-1]
    nothing_leaked(sink)


async def test_a_forward_of_the_confidential_post_stays_confidential(server, sink, cli):
    """bob forwards c1 as an attachment to the list without any marker: nina gets nothing, bob a marked copy."""
    await posted_secret(server, sink, cli)
    before = len(sink.copies_for("bob@example.org"))
    raw = (b"From: bob@example.org\r\nTo: team@example.org\r\nSubject: Fwd: see this\r\nMessage-ID: <f1@example.org>"
           b'\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
           b"Content-Type: text/plain\r\n\r\nFYI\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
           b"Message-ID: <c1@example.org>\r\nSubject: old\r\n\r\n" + SECRET_BODY.encode() + b"\r\n--b--\r\n")
    await send(server.port, raw, "bob@example.org")
    await quiet(sink, "bob@example.org", before + 1)
    assert parsed(sink.copies_for("bob@example.org")[-1])["Sensitivity"] == "Company-Confidential"
    nothing_leaked(sink)


async def test_receipt_headers_never_reach_members_and_get_is_marked(server, sink, cli):
    """A confidential post asking for read receipts to an outside address: no copy carries the request; the
    post fetched with `get` comes marked as confidential."""
    await make_team(cli)
    spy = (("Disposition-Notification-To", "spy@news.example"), ("X-Confirm-Reading-To", "spy@news.example"),
           ("Return-Receipt-To", "spy@news.example"), ("Mail-Followup-To", "spy@news.example"))
    await send(server.port, compose("Private question", "Zanzibarian text\n", "c2@example.org",
                                    headers=(("Sensitivity", "Private"), *spy)), "ann@example.org")
    await quiet(sink, "bob@example.org", 1)
    assert all(b"spy@news.example" not in copy for copy in sink.copies_for("bob@example.org"))
    await send(server.port, compose("commands", "get 1\n", "q1@example.org", sender="bob@example.org", to=REQUEST),
               "bob@example.org", (REQUEST,))
    await quiet(sink, "bob@example.org", 2)
    reply = sink.copies_for("bob@example.org")[-1]
    assert b"Sensitivity: Company-Confidential" in reply and b"spy@news.example" not in reply
    nothing_leaked(sink)
