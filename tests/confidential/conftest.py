"""Fixtures for the confidential-thread tests: a list whose members differ in entitlement and delivery, a runner
that puts a message through the real pipeline on a real store, and readers of what was queued, archived and logged.

The words of SECRET_SUBJECT and SECRET_BODY appear in no other text of these
tests, so finding any of them somewhere proves a leak.
"""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from email.utils import formatdate

import pytest

from listserv import lists
from listserv.lists import MailingList
from listserv.pipeline import process
from listserv.store import inbound, members, outbound

TEAM = "team@example.org"
SECRET_SUBJECT = "Quillfeather sentencing"  # words found nowhere else in the tests
SECRET_BODY = "Defendant Zanzibarian disclosed a prior Xylophonic conviction."
SECRET_WORDS = ("Quillfeather", "Zanzibarian", "Xylophonic")
ENTITLED = ("ann@example.org", "bob@example.org", "mod@example.org", "olga@example.org")
NOT_ENTITLED = "nina@example.org"  # a regular member with confidential off
DIGEST_ENTITLED = "dora@example.org"  # reads the digest, entitled
DIGEST_NOT_ENTITLED = "dan@example.org"  # reads the digest, confidential off


def compose(
    subject: str = "Sentencing memo help",
    body: str = "Has anyone used a mitigation video?\n",
    message_id: str = "p1@example.org",
    sender: str = "Ann Member <ann@example.org>",
    to: str = TEAM,
    headers: tuple[tuple[str, str], ...] = (),
    when: float = 1700000000.0,
) -> bytes:
    """A plain text post as bytes, dated `when`; extra headers (In-Reply-To, Sensitivity, Cc, ...) as given."""
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Date: {formatdate(when)}",
             f"Message-ID: <{message_id}>"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode("utf-8")


def secret(message_id: str = "c1@example.org", **extra) -> bytes:
    """A confidential post by the subject tag, carrying the secret words in subject and body."""
    return compose(f"[CONFIDENTIAL] {SECRET_SUBJECT}", SECRET_BODY + "\n", message_id, **extra)


def reply(message_id: str, parent: str, refs: str = "", body: str = "Re-reading it now.\n", **extra) -> bytes:
    """An unmarked reply to parent (In-Reply-To, and References when refs is given)."""
    headers = [("In-Reply-To", f"<{parent}>")] + ([("References", refs)] if refs else [])
    return compose("Re: follow-up", body, message_id, headers=tuple(headers), **extra)


def parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def leaked(text: str | bytes) -> list[str]:
    """The secret words found in text (decoded leniently when bytes)."""
    plain = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return [word for word in SECRET_WORDS if word.casefold() in plain.casefold()]


@pytest.fixture
async def team(store) -> MailingList:
    """team@example.org: entitled ann, bob, moderator mod, owner olga; unentitled nina; digest readers dora, dan."""
    mlist = await lists.create(store, TEAM, description="Sentencing advocates")
    rows = [
        {"address": "ann@example.org"}, {"address": "bob@example.org"},
        {"address": "mod@example.org", "role": "moderator"}, {"address": "olga@example.org", "role": "owner"},
        {"address": NOT_ENTITLED, "confidential": 0},
        {"address": DIGEST_ENTITLED, "delivery": "digest"},
        {"address": DIGEST_NOT_ENTITLED, "delivery": "digest", "confidential": 0},
    ]
    for row in rows:
        await store.write(members.add, mlist.id, row)
    return await lists.get(store, TEAM)


@pytest.fixture
def submit(store, settings):
    """submit(raw, rcpts, mail_from) -> outcome: enqueue as intake would, then run the whole pipeline."""

    async def run(raw: bytes, rcpts=(TEAM,), mail_from: str = "ann@example.org") -> dict[str, str]:
        inbound_id = await store.write(inbound.enqueue, mail_from, list(rcpts), raw, "127.0.0.1")
        item = await inbound.get(store.db, inbound_id)
        return await process(store, settings, item)

    return run


async def queued(store) -> dict[str, list[bytes]]:
    """Every queued copy by recipient address, in queue order."""
    copies: dict[str, list[bytes]] = {}
    for batch in await outbound.due(store.db, now=1e12, exclude=[-1], limit=10000):
        content = await outbound.content(store.db, batch["outbound_message_id"])
        for address in batch["recipients"]:
            copies.setdefault(address, []).append(content)
    return copies
