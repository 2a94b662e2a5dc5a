"""One classifier on every path: the pipeline and `archive import` agree on a table of markers; markers and
Message-IDs count inside enclosed messages, quoted header lines and encoded parts; -owner mail and bounces that
refer to a confidential post reach entitled owners only."""

from __future__ import annotations

import base64
import mailbox
import quopri
from email import message_from_bytes, policy

import pytest

from listserv import lists
from listserv.archive.importer import import_mbox
from listserv.confidential import markers
from listserv.store import held, members, messages

from .conftest import SECRET_BODY, SECRET_SUBJECT, TEAM, compose, leaked, queued, secret

ARCHIVE = "old@example.org"


def multipart(top: list[str], parts: list[bytes], kind: str = "mixed") -> bytes:
    """A multipart message: top header lines, then each part (its own header lines and body, as bytes)."""
    head = "\r\n".join([*top, "MIME-Version: 1.0", f'Content-Type: multipart/{kind}; boundary="b0"'])
    body = b"".join(b"--b0\r\n" + part + b"\r\n" for part in parts) + b"--b0--\r\n"
    return head.encode() + b"\r\n\r\n" + body


def top(message_id: str, subject: str = "Fwd: for the record") -> list[str]:
    return ["From: Ann Member <ann@example.org>", f"To: {TEAM}", f"Subject: {subject}",
            "Date: Tue, 14 Nov 2023 22:13:20 +0000", f"Message-ID: <{message_id}>"]


ENCLOSED = b"From: x@elsewhere.example\r\nSubject: [CONFIDENTIAL] Quillfeather\r\n\r\nold text\r\n"
QUOTED_SUBJECT = "See below.\r\n\r\n> From: ann@example.org\r\n> Subject: [Confidential] Quillfeather\r\n> text\r\n"


def b64(text: bytes) -> bytes:
    return base64.encodebytes(text)


def row(name: str, message_id: str) -> bytes:
    """The table's messages, each built fresh with the given Message-ID."""
    plain = {
        "full-width tag": lambda: compose("［ＣＯＮＦＩＤＥＮＴＩＡＬ］ hearing", "x\n", message_id),
        "encoded tag": lambda: compose("=?utf-8?b?" + base64.b64encode(b"[confidential] x").decode() + "?=", "x\n",
                                       message_id),
        "Sensitivity: Private; x": lambda: compose("hearing", "x\n", message_id,
                                                   headers=(("Sensitivity", "Private; x"),)),
        "private (outlook)": lambda: compose("hearing", "x\n", message_id,
                                             headers=(("Sensitivity", "private (outlook)"),)),
        "quoted subject line": lambda: compose("Re: hearing", QUOTED_SUBJECT, message_id),
        "quoted sensitivity line": lambda: compose("Re: hearing", "> Sensitivity: Company-Confidential\n> x\n",
                                                   message_id),
        "plain post": lambda: compose("hearing dates", "Is the courthouse open?\n", message_id),
        "Sensitivity: Personal": lambda: compose("x", "y\n", message_id, headers=(("Sensitivity", "Personal"),)),
        "word in prose": lambda: compose("confidentiality rules", "Is this confidential? Sensitivity matters.\n",
                                         message_id),
    }
    if name in plain:
        return plain[name]()
    parts = {
        "forwarded message": [b"Content-Type: text/plain\r\n\r\nFYI\r\n",
                              b"Content-Type: message/rfc822\r\n\r\n" + ENCLOSED],
        "forwarded message, base64": [b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                                      + b64(ENCLOSED)],
        "attached .eml": [b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment;"
                          b' filename="case.eml"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + b64(ENCLOSED)],
        "base64 quoted subject": [b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64"
                                  b"\r\n\r\n" + b64(QUOTED_SUBJECT.encode())],
        "quoted-printable sensitivity": [b"Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable"
                                         b"\r\n\r\n" + quopri.encodestring(b"> Sensitivity: Private\r\n")],
        "rfc822-headers part": [b"Content-Type: text/plain\r\n\r\nreturned\r\n",
                                b"Content-Type: text/rfc822-headers\r\n\r\n" + ENCLOSED.split(b"\r\n\r\n")[0]],
        "html entities": [b"Content-Type: text/html\r\n\r\n<p>&gt; Subject: &#91;CONFIDENTIAL&#93; x</p>\r\n"],
        "deep nesting": [nested(6, b"Content-Type: message/rfc822\r\n\r\n" + ENCLOSED)],
        "harmless attachment": [b"Content-Type: text/plain\r\n\r\nminutes attached\r\n",
                                b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                                + b64(b"%PDF-1.4 Subject: [CONFIDENTIAL] inside a pdf")],
    }
    return multipart(top(message_id), parts[name])


def nested(depth: int, leaf: bytes) -> bytes:
    """A part nested `depth` multiparts deep around leaf."""
    for level in range(depth):
        boundary = f"n{level}".encode()
        leaf = (b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n\r\n--' + boundary + b"\r\n"
                + leaf + b"\r\n--" + boundary + b"--\r\n")
    return leaf


TABLE = [
    ("full-width tag", True), ("encoded tag", True), ("Sensitivity: Private; x", True), ("private (outlook)", True),
    ("quoted subject line", True), ("quoted sensitivity line", True), ("forwarded message", True),
    ("forwarded message, base64", True), ("attached .eml", True), ("base64 quoted subject", True),
    ("quoted-printable sensitivity", True), ("rfc822-headers part", True), ("html entities", True),
    ("deep nesting", True),
    ("plain post", False), ("Sensitivity: Personal", False), ("word in prose", False), ("harmless attachment", False),
]


async def test_pipeline_and_import_classify_the_table_alike(settings, store, team, submit, tmp_path):
    """Every row of the marker table: the pipeline's decision and the importer's flag are the same, and right."""
    await lists.create(store, ARCHIVE)
    box = mailbox.mbox(tmp_path / "old.mbox")
    for number, (name, _) in enumerate(TABLE):
        box.add(row(name, f"imp{number}@example.org"))
    box.close()
    report = await import_mbox(store, ARCHIVE, tmp_path / "old.mbox", workers=1, settings=settings)
    assert report.imported == len(TABLE)
    imported = {r["message_id"]: r["confidential"] for r in await _archived(store, ARCHIVE)}
    for number, (name, expected) in enumerate(TABLE):
        await submit(row(name, f"pipe{number}@example.org"))
    piped = {r["message_id"]: r["confidential"] for r in await _archived(store, TEAM)}
    for number, (name, expected) in enumerate(TABLE):
        both = (bool(piped[f"pipe{number}@example.org"]), bool(imported[f"imp{number}@example.org"]))
        assert both == (expected, expected), name


@pytest.mark.parametrize("name,expected", TABLE)
def test_one_function_whatever_the_parser(name, expected):
    """markers.examine gives the same markers on a policy.default and a compat32 reading of each row."""
    raw = row(name, "x1@example.org")
    modern = markers.classify(message_from_bytes(raw, policy=policy.default), raw, "[CONFIDENTIAL]")
    old = markers.classify(message_from_bytes(raw, policy=policy.compat32), raw, "[CONFIDENTIAL]")
    assert modern == old and bool(modern) is expected


def test_what_cannot_be_read_counts_as_confidential():
    """No parse, or more parts than the scan reads: the markers say so, and the message counts as confidential."""
    assert markers.classify(None, b"garbage", "[CONFIDENTIAL]") == ["unparsed"]
    many = multipart(top("m@example.org"), [b"Content-Type: text/plain\r\n\r\nx\r\n"] * (markers.SCAN_PARTS + 5))
    assert "unscanned" in markers.classify(message_from_bytes(many, policy=policy.compat32), many, "[CONFIDENTIAL]")


async def _archived(store, address: str) -> list[dict]:
    return await messages.for_list(store.db, (await lists.get(store, address)).id)


async def _post(store, message_id: str) -> dict:
    [found] = [post for post in await _archived(store, TEAM) if post["message_id"] == message_id]
    return found


REFERRING = {
    "enclosed message": lambda: multipart(top("r1@example.org"), [
        b"Content-Type: text/plain\r\n\r\nsee attached\r\n",
        b"Content-Type: message/rfc822\r\n\r\nFrom: ann@example.org\r\nSubject: hearing\r\n"
        b"Message-ID: <c1@example.org>\r\n\r\nold\r\n"]),
    "quoted Message-ID": lambda: compose("hearing", "> Message-ID: <c1@example.org>\n> text\n", "r1@example.org"),
    "quoted bare id": lambda: compose("hearing", "> In-Reply-To: c1@example.org\n", "r1@example.org"),
    "base64 id token": lambda: multipart(top("r1@example.org"), [
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + b64(b"On Monday <c1@example.org> was sent\r\n")]),
    "delivery report headers": lambda: multipart(top("r1@example.org"), [
        b"Content-Type: text/plain\r\n\r\nreturned\r\n",
        b"Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Message-ID: <c1@example.org>\r\nSubject: =3D\r\n"], kind="report"),
}


@pytest.mark.parametrize("name", sorted(REFERRING))
async def test_a_message_id_inside_a_post_makes_it_confidential(store, team, submit, name):
    """A post without markers that carries a confidential post's Message-ID inside it is confidential."""
    await submit(secret("c1@example.org"))
    await submit(REFERRING[name]())
    post = await _post(store, "r1@example.org")
    assert post["confidential"]
    assert "r1@example.org" not in str([c for c in (await queued(store)).get("nina@example.org", [])])


async def test_a_message_id_of_a_public_post_inside_changes_nothing(store, team, submit):
    """The same shapes naming a post that is not confidential leave the post ordinary."""
    await submit(compose("open question", "x\n", "c1@example.org"))
    await submit(REFERRING["enclosed message"]())
    assert not (await _post(store, "r1@example.org"))["confidential"]


OWNER = "team-owner@example.org"


@pytest.fixture
async def two_owners(store, team):
    """olga (owner, entitled) and otto (owner, not entitled)."""
    await store.write(members.add, team.id, {"address": "otto@example.org", "role": "owner", "confidential": 0})
    return team


@pytest.mark.parametrize("shape", ["in-reply-to", "references", "quoted id", "forwarded"])
async def test_owner_mail_about_a_confidential_post_reaches_entitled_owners_only(store, two_owners, submit, shape):
    """A member writes to -owner about a confidential post (reply, quote, forward): only olga gets it."""
    await submit(secret("c1@example.org"))
    before = await queued(store)
    body = f"About the post:\n> {SECRET_BODY}\n"
    heads = {"in-reply-to": (("In-Reply-To", "<c1@example.org>"),),
             "references": (("References", "<zz@example.org> <c1@example.org>"),), "quoted id": (), "forwarded": ()}
    if shape == "quoted id":
        body += "> Message-ID: <c1@example.org>\n"
    raw = compose("Re: question", body, "o1@example.org", to=OWNER, headers=heads[shape])
    if shape == "forwarded":
        raw = multipart(top("o1@example.org", "Fwd: question"), [
            b"Content-Type: message/rfc822\r\n\r\nMessage-ID: <c1@example.org>\r\nSubject: x\r\n\r\n"
            + SECRET_BODY.encode() + b"\r\n"])
    assert await submit(raw, rcpts=(OWNER,)) == {OWNER: "forwarded"}
    after = await queued(store)
    new = {address: len(after.get(address, [])) - len(before.get(address, [])) for address in after}
    assert new.get("olga@example.org") == 1 and new.get("otto@example.org", 0) == 0


BOUNCES = "team-bounces@example.org"
RETURNED = (b"Return-Path: <team-bounces@example.org>\r\nSubject: [team] Re: follow-up\r\n"
            b"Message-ID: <c1@example.org>\r\n\r\n" + SECRET_BODY.encode() + b"\r\n")


def bounce(shape: str) -> bytes:
    """An unattributable bounce returning the confidential post's copy (no tag, no Sensitivity: only its id)."""
    heads = ["From: MAILER-DAEMON@mx.example", f"To: {BOUNCES}", "Subject: Undeliverable",
             "Message-ID: <dsn-" + shape + "@mx.example>"]
    if shape == "plain":
        return ("\r\n".join(heads) + "\r\n\r\nIt failed.\r\n\r\n").encode() + RETURNED
    if shape == "base64 text":
        return multipart(heads, [b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                                 + b64(b"It failed.\r\n" + RETURNED)])
    return multipart(heads, [b"Content-Type: text/plain\r\n\r\nIt failed.\r\n",
                             b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n",
                             b"Content-Type: message/rfc822\r\n\r\n" + RETURNED], kind="report")


@pytest.mark.parametrize("shape", ["plain", "base64 text", "report"])
async def test_a_bounce_of_a_confidential_copy_reaches_entitled_owners_only(store, two_owners, submit, shape):
    """A bounce quoting a confidential copy (found by its Message-ID) goes to the entitled owner only."""
    await submit(secret("c1@example.org"))
    before = await queued(store)
    assert await submit(bounce(shape), rcpts=(BOUNCES,), mail_from="") == {BOUNCES: "forwarded"}
    after = await queued(store)
    assert len(after.get("otto@example.org", [])) == len(before.get("otto@example.org", []))
    assert len(after["olga@example.org"]) == len(before.get("olga@example.org", [])) + 1


async def test_no_entitled_owner_keeps_it_held_and_masked(store, two_owners, submit):
    """With no entitled owner, owner mail about a confidential post is held flagged; nobody gets its text."""
    await store.write(members.update, two_owners.id, "olga@example.org", "confidential", 0)
    await submit(secret("c1@example.org"))
    raw = compose("Re: question", f"> {SECRET_SUBJECT}\n", "o1@example.org", to=OWNER,
                  headers=(("In-Reply-To", "<c1@example.org>"),))
    assert await submit(raw, rcpts=(OWNER,)) == {OWNER: "held"}
    [row] = await held.waiting(store.db, two_owners.id)
    assert row["confidential"]
    for address in ("olga@example.org", "otto@example.org"):
        assert all(leaked(copy) == [] for copy in (await queued(store)).get(address, []))


async def test_approving_held_owner_mail_about_a_confidential_post_forwards_to_entitled_owners_only(
    store, settings, two_owners, submit, cli
):
    """Held because no owner was entitled: approving it is refused until one is, then only that owner gets it."""
    await store.write(members.update, two_owners.id, "olga@example.org", "confidential", 0)
    await submit(secret("c1@example.org"))
    raw = compose("Re: question", "more\n", "o1@example.org", to=OWNER, headers=(("In-Reply-To", "<c1@example.org>"),))
    assert await submit(raw, rcpts=(OWNER,)) == {OWNER: "held"}
    [row] = await held.waiting(store.db, two_owners.id)
    before = await queued(store)
    refused = await cli("held", "approve", str(row["id"]), "--by", "mod@example.org")
    assert refused.exit_code == 1 and "no owner of team@example.org is entitled" in refused.output
    await store.write(members.update, two_owners.id, "olga@example.org", "confidential", 1)
    assert (await cli("held", "approve", str(row["id"]), "--by", "mod@example.org")).exit_code == 0
    after = await queued(store)
    assert len(after["olga@example.org"]) == len(before.get("olga@example.org", [])) + 1
    assert len(after.get("otto@example.org", [])) == len(before.get("otto@example.org", []))
