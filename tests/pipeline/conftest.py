"""Fixtures for pipeline tests: a list with members on a real store, message builders, and a runner."""

from __future__ import annotations

from dataclasses import replace
from email.utils import formatdate

import pytest

from listserv import lists
from listserv.list_settings import ListSettings
from listserv.lists import MailingList
from listserv.pipeline import parse, process
from listserv.pipeline.msgdata import MsgData
from listserv.store import inbound, members
from listserv.store.members import Member

TEAM = "team@example.org"


def compose(
    sender: str = "Ann Member <ann@example.org>",
    subject: str = "Mitigation expert in Ohio?",
    body: str = "Does anyone know a good expert?\nThanks.\n",
    message_id: str | None = "post-1@example.org",
    headers: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """A plain post as bytes; None for message_id leaves the header out."""
    lines = [f"From: {sender}", f"To: {TEAM}", f"Subject: {subject}", f"Date: {formatdate(1700000000)}"]
    if message_id is not None:
        lines.append(f"Message-ID: <{message_id}>")
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\n".join(lines) + "\n\n" + body).encode("utf-8")


def mailing_list(**settings) -> MailingList:
    """A list value for rule tests that need no store."""
    return MailingList(1, TEAM, "Sentencing advocates", replace(ListSettings.from_stored({}), **settings))


def member(**fields) -> Member:
    """Ann as a regular member, with fields changed, for rule tests that need no store."""
    defaults = {"address": "ann@example.org", "name": "Ann", "role": "member", "delivery": "regular",
                "moderated": False, "confidential": True, "receive_own": True, "bounce_score": 0.0}
    return Member(**{**defaults, **fields})


def msgdata(raw: bytes, mlist: MailingList | None = None, member: Member | None = None, **fields) -> MsgData:
    """MsgData as parse and route would fill it, for testing rules and decorate on their own."""
    msg, defects = parse.parse(raw)
    data = MsgData(
        mlist=mlist or mailing_list(), role="post", raw=raw, msg=msg, inbound_id=1,
        received_at=1700000000.0, mail_from="ann@example.org", defects=defects, member=member,
    )
    parse.fill_headers(data)
    for name, value in fields.items():
        setattr(data, name, value)
    return data


@pytest.fixture
async def team(store) -> MailingList:
    """team@example.org with regular members ann and bob, moderator mod and owner olga.

    Moderator notices are off, so the outbound queue holds only what a test
    sends itself; tests/notices/ covers them.
    """
    created = await lists.create(store, TEAM, description="Sentencing advocates")
    mlist = await lists.set_setting(store, created.address, "moderator_notices", "off")
    for address, role in (("ann@example.org", "member"), ("bob@example.org", "member"),
                          ("mod@example.org", "moderator"), ("olga@example.org", "owner")):
        await store.write(members.add, mlist.id, {"address": address, "role": role})
    return mlist


@pytest.fixture
def submit(store, settings):
    """submit(raw, rcpts, mail_from) -> (inbound item, outcome): enqueue as intake would, then process."""

    async def run(raw: bytes, rcpts=(TEAM,), mail_from: str = "ann@example.org"):
        inbound_id = await store.write(inbound.enqueue, mail_from, list(rcpts), raw, "127.0.0.1")
        item = next(i for i in await inbound.pending(store.db) if i["id"] == inbound_id)
        return item, await process(store, settings, item)

    return run
