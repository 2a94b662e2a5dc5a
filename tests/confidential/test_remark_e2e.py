"""Late re-marking end to end: the real daemon over loopback SMTP, a smarthost that defers some recipients, the CLI.

A copy or a notice deferred by the smarthost (4xx) is still in the outbound
queue when its thread turns confidential: when the smarthost recovers, the
members not entitled to confidential posts never get the post, the entitled
ones get the confidential copy, and the moderators' notice no longer names
the subject of the held post.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace

import pytest

from listserv import reminders
from tests.e2e.helpers import send

from .conftest import DIGEST_ENTITLED, DIGEST_NOT_ENTITLED, NOT_ENTITLED, compose, leaked, parsed, secret
from .test_e2e import make_team
from .test_remark_held import STRANGER, stranger_reply

DEFER = "451 4.3.0 smarthost busy, try later"


@pytest.fixture
def smtp_settings(settings, sink):
    """Delivery to the sink with retries far apart: a deferred copy waits in the queue until `queue retry`."""
    delivery = replace(settings.delivery, transport=f"smtp://127.0.0.1:{sink.port}", retry_schedule=(60, 60, 60))
    return replace(settings, delivery=delivery)


async def _deferred(cli) -> list[dict]:
    """Queued batches the smarthost has already deferred once."""
    return [row for row in json.loads((await cli("queue", "ls", "--json")).output) if row["attempts"] >= 1]


async def _wait(predicate, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def _recover(sink, cli) -> None:
    """The smarthost accepts everyone again, and the deferred batches are due now."""
    sink.fail_rcpt.clear()
    assert (await cli("queue", "retry")).exit_code == 0


async def test_a_deferred_post_whose_thread_turns_confidential(server, sink, cli):
    """A post deferred for nina and bob, then a confidential reply to it: nina never gets the post, bob gets
    the confidential copy, dora (entitled digest reader) gets it individually, dan nothing."""
    await make_team(cli)
    sink.fail_rcpt.update({NOT_ENTITLED: DEFER, "bob@example.org": DEFER})
    await send(server.port, compose("Expert witness?", "Zanzibarian file?\n", "p1@example.org"), "ann@example.org")

    async def deferred() -> bool:
        return bool(await _deferred(cli))

    await _wait(deferred)
    assert sink.copies_for("mod@example.org")  # the others got the ordinary post meanwhile
    await send(server.port, secret("c1@example.org", headers=(("In-Reply-To", "<p1@example.org>"),)),
               "ann@example.org")
    await sink.wait_for(lambda: len(sink.copies_for("mod@example.org")) == 2)
    await _recover(sink, cli)
    await sink.wait_for(lambda: len(sink.copies_for("bob@example.org")) == 2)
    await asyncio.sleep(0.5)
    assert sink.copies_for(NOT_ENTITLED) == [] and sink.copies_for(DIGEST_NOT_ENTITLED) == []
    [post] = [parsed(c) for c in sink.copies_for("bob@example.org") if b"Zanzibarian file" in c]
    assert post["Sensitivity"] == "Company-Confidential" and "[CONFIDENTIAL]" in post["Subject"]
    assert any(b"Zanzibarian file" in c for c in sink.copies_for(DIGEST_ENTITLED))
    assert await _deferred(cli) == []


async def test_a_held_reply_whose_parent_comes_later(server, sink, cli, smtp_settings):
    """A stranger's reply held (its notice deferred), then the confidential parent: held ls masks it, the
    notice and the daily reminder arrive without the subject, no inbound copy is left, approval sends
    confidential copies only."""
    await make_team(cli)
    sink.fail_rcpt.update({"mod@example.org": DEFER, "ann@example.org": DEFER})
    await send(server.port, stranger_reply("h1@example.org", "c1@example.org"), STRANGER)

    async def noticed() -> bool:
        return bool(await _deferred(cli))

    await _wait(noticed)
    await send(server.port, secret("c1@example.org", sender="Bob <bob@example.org>"), "bob@example.org")
    await sink.wait_for(lambda: len(sink.copies_for(DIGEST_ENTITLED)) == 1)
    [row] = json.loads((await cli("held", "ls", "--json")).output)
    assert row["confidential"] is True and leaked(json.dumps(row)) == []
    await _recover(sink, cli)
    await sink.wait_for(lambda: any(b"is waiting for a moderator" in c for c in sink.copies_for("mod@example.org")))
    [note] = [c for c in sink.copies_for("mod@example.org") if b"is waiting for a moderator" in c]
    assert leaked(note) == [] and "subject not shown" in parsed(note).get_content()
    rows = await server.store.db.execute_fetchall("SELECT raw FROM inbound")
    assert [word for (raw,) in rows for word in leaked(bytes(raw))] == []
    assert await reminders.remind(server.store, smtp_settings, time.time() + 2 * 86400) == 1
    await sink.wait_for(lambda: any(b"waited more than a day" in c for c in sink.copies_for("mod@example.org")))
    [reminder] = [c for c in sink.copies_for("mod@example.org") if b"waited more than a day" in c]
    assert leaked(reminder) == [] and "subject not shown" in parsed(reminder).get_content()
    assert (await cli("held", "approve", str(row["id"]), "--by", "mod@example.org")).exit_code == 0
    await sink.wait_for(lambda: len(sink.copies_for(DIGEST_ENTITLED)) == 2)
    await asyncio.sleep(0.5)
    assert sink.copies_for(NOT_ENTITLED) == [] and sink.copies_for(DIGEST_NOT_ENTITLED) == []
    [copy] = [parsed(c) for c in sink.copies_for("bob@example.org") if b"h1@example.org" in c]
    assert copy["Sensitivity"] == "Company-Confidential" and leaked(copy.as_bytes())
