"""Fixtures for the email command tests: a list on a real store, command messages, and the mail they queue."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from email.utils import formatdate

import pytest

from listserv import lists, membership
from listserv.lists import MailingList
from listserv.pipeline import process
from listserv.store import inbound, outbound

TEAM = "team@example.org"
REQUEST = "team-request@example.org"
MEMBERS = (("ann@example.org", "member"), ("bob@example.org", "member"),
           ("mod@example.org", "moderator"), ("olga@example.org", "owner"))


def command_mail(
    sender: str = "Ann Member <ann@example.org>", subject: str = "", body: str = "",
    headers: tuple[tuple[str, str], ...] = (), to: str = REQUEST, message_id: str = "cmd-1@example.org",
) -> bytes:
    """A message to -request as bytes (a plain mail client's)."""
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Date: {formatdate(1700000000)}",
             f"Message-ID: <{message_id}>"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\n".join(lines) + "\n\n" + body).encode("utf-8")


@pytest.fixture
async def team(store) -> MailingList:
    """team@example.org (subscription_policy moderate, the default) with ann, bob, mod (moderator), olga (owner)."""
    await lists.create(store, TEAM, description="Sentencing advocates")
    for address, role in MEMBERS:
        await membership.add(store, TEAM, address, role=role)
    return await lists.get(store, TEAM)


@pytest.fixture
def submit(store, settings):
    """submit(raw, rcpts, mail_from, received_at) -> outcome: enqueue as intake would, then run the pipeline.

    received_at injects the clock: tokens are issued and judged by a message's arrival time.
    """

    async def run(raw: bytes, rcpts=(REQUEST,), mail_from: str = "ann@example.org", received_at: float | None = None):
        inbound_id = await store.write(inbound.enqueue, mail_from, list(rcpts), raw, "127.0.0.1")
        item = await inbound.get(store.db, inbound_id)
        if received_at is not None:
            item["received_at"] = received_at
        return await process(store, settings, item)

    return run


@pytest.fixture
def take(store):
    """take() -> [(parsed message, recipients, envelope sender)] queued since the last take (and withdraws them)."""

    async def run() -> list[tuple[EmailMessage, list[str], str]]:
        found: dict[int, tuple[EmailMessage, list[str], str]] = {}
        for batch in await outbound.due(store.db, now=1e12, exclude=[-1], limit=1000):
            key = batch["outbound_message_id"]
            if key not in found:
                content = await outbound.content(store.db, key)
                found[key] = (email.message_from_bytes(content, policy=policy.default), [], batch["mail_from"])
            found[key][1].extend(batch["recipients"])
        for key in found:
            await store.write(outbound.withdraw, key)
        return [found[key] for key in sorted(found)]

    return run


def token_of(confirmation: EmailMessage) -> str:
    """The token of a confirmation request (its subject is "confirm TOKEN")."""
    words = str(confirmation["Subject"]).split()
    assert words[0] == "confirm" and len(words) == 2, confirmation["Subject"]
    return words[1]


def text_of(msg: EmailMessage) -> str:
    """The text of a reply or notice (the first text/plain part)."""
    part = msg.get_body(("plain",))
    return part.get_content() if part is not None else ""
