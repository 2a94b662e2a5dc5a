"""Helpers for the bounce, digest and notice tests: a list on a real store, posting through the pipeline, the queue."""

from __future__ import annotations

import email
import json
from email import policy
from email.message import EmailMessage
from email.utils import formatdate

from listserv import lists
from listserv.lists import MailingList
from listserv.pipeline import process
from listserv.store import inbound, members, outbound

LIST = "team@example.org"
BOUNCES = "team-bounces@example.org"
# (address, role, delivery, confidential)
PEOPLE = (
    ("ann@example.org", "member", "regular", 1),
    ("bob@example.org", "member", "regular", 1),
    ("dee@example.org", "member", "digest", 1),
    ("eve@example.org", "member", "digest", 0),
    ("mod@example.org", "moderator", "regular", 1),
    ("olga@example.org", "owner", "regular", 1),
)


async def make_team(store, **settings: str) -> MailingList:
    """team@example.org with PEOPLE as members and the given list settings."""
    mlist = await lists.create(store, LIST, description="Sentencing advocates")
    for address, role, delivery, confidential in PEOPLE:
        row = {"address": address, "role": role, "delivery": delivery, "confidential": confidential}
        await store.write(members.add, mlist.id, row)
    for key, value in settings.items():
        mlist = await lists.set_setting(store, LIST, key, value)
    return mlist


def post(sender: str = "Ann Member <ann@example.org>", subject: str = "Records request", body: str = "Who has them?\n",
         message_id: str = "post-1@example.org", to: str = LIST) -> bytes:
    """A plain post as bytes."""
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Date: {formatdate(1700000000)}",
             f"Message-ID: <{message_id}>", "Received: from secret-relay.example by mx.example.org"]
    return ("\n".join(lines) + "\n\n" + body).encode("utf-8")


async def submit(store, settings, raw: bytes, rcpts=(LIST,), mail_from: str = "ann@example.org") -> dict:
    """Enqueue as intake would, then run the pipeline; returns the outcome per recipient."""
    inbound_id = await store.write(inbound.enqueue, mail_from, list(rcpts), raw, "127.0.0.1")
    item = await inbound.get(store.db, inbound_id)
    return await process(store, settings, item)


async def queued(store) -> list[dict]:
    """Every queued batch with its content parsed: recipients, mail_from, verp, message."""
    rows = []
    for batch in await outbound.due(store.db, now=1e12, exclude=[-1]):
        content = await outbound.content(store.db, batch["outbound_message_id"])
        rows.append({**batch, "content": content, "message": parsed(content)})
    return rows


def parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def outcome_json(value: str | None) -> dict:
    return json.loads(value or "{}")
