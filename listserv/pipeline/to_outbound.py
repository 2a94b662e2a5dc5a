"""The delivery handler: queue an accepted post for every member who gets it, in batches, in the same transaction."""

from __future__ import annotations

import logging

import aiosqlite

from listserv.addresses import sub_address
from listserv.config import Settings
from listserv.pipeline.msgdata import MsgData
from listserv.store import members, outbound

log = logging.getLogger(__name__)


async def to_outbound(db: aiosqlite.Connection, settings: Settings, data: MsgData) -> None:
    """One recipients query (never one per member), then one outbound message split into batches."""
    recipients = await members.recipients(db, data.mlist.id, data.sender, data.confidential)
    await outbound.enqueue(
        db,
        data.mlist.id,
        sub_address(data.mlist.address, "bounces"),
        data.content,
        recipients,
        settings.delivery.max_recipients,
        data.archive_id,
    )
    log.info("inbound %s to %s: queued for %d recipients", data.inbound_id, data.mlist.address, len(recipients))
