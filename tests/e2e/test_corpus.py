"""Real-world messages (CPython's email test corpus) sent to a list: each gets 250 and a decision."""

from __future__ import annotations

import asyncio

import aiosmtplib

from listserv.store import Store, inbound
from listserv.store import held as store_held
from tests.conftest import CORPUS
from tests.e2e.helpers import LIST, make_list, message, send

FILES = sorted((CORPUS / "cpython-email").glob("*.txt")) + sorted((CORPUS / "cpython-email").glob("*.eml"))


async def test_every_corpus_message_is_accepted_or_held_with_a_reason(server, sink, cli, smtp_settings):
    """Malformed MIME, bad charsets, missing headers: each message gets 250 and ends accepted or held."""
    await make_list(cli)
    for path in FILES:
        errors, reply = await aiosmtplib.send(
            path.read_bytes(), sender="ann@example.org", recipients=[LIST], hostname="127.0.0.1", port=server.port
        )
        assert errors == {} and reply.startswith("2"), path.name
    store = await Store.open(smtp_settings.storage.database)
    try:
        rows = await _all_processed(store, len(FILES))
        outcomes = {row["id"]: row["outcome"] for row in rows}
        held_reasons = {h["inbound_id"]: h["reasons"] for h in await store_held.waiting(store.db)}
    finally:
        await store.close()
    for path, row in zip(FILES, rows):
        assert outcomes[row["id"]] in ('{"team@example.org": "accepted"}', '{"team@example.org": "held"}'), path.name
        if "held" in outcomes[row["id"]]:
            assert held_reasons[row["id"]], f"{path.name} held without a reason"
    await send(server.port, message("ann@example.org", "still serving"), "ann@example.org")


async def _all_processed(store: Store, count: int, timeout: float = 30.0) -> list[dict]:
    """The first `count` inbound rows once the pipeline has processed all of them."""
    for _ in range(int(timeout / 0.1)):
        rows = [await inbound.get(store.db, i) for i in range(1, count + 1)]
        if all(row and row["processed_at"] for row in rows):
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError("pipeline did not process every corpus message")
