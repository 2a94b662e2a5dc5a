"""Queued mail the list rewrites (a notice losing a subject that became confidential) is signed again."""

from __future__ import annotations

from listserv import lists, outgoing
from listserv.outgoing import keys, notices, owner_mail
from listserv.store import outbound
from tests.outgoing.helpers import dns_from, signatures, well_signed


async def test_a_rewritten_notice_loses_its_old_signature_and_verifies(settings, store):
    """replace(): the rewritten bytes carry one fresh signature per key (no stale one) and verify."""
    mlist = await lists.create(store, "team@example.org")
    dns = dns_from({record.name: record.value.encode() for record in keys.generate(settings, "example.org")})
    note = owner_mail.plain(mlist, "ann@example.org", "team: post held (Secret subject)", ["held: 1"])
    queued = await store.write(outgoing.queue, settings, mlist, note, ["ann@example.org"])
    signed = await outbound.content(store.db, queued)
    assert signatures(signed) == 2 and well_signed(signed, dns)
    rewritten = notices.without_subjects(signed, ["Secret subject"])
    await store.write(outgoing.replace, settings, mlist, queued, rewritten)
    final = await outbound.content(store.db, queued)
    assert b"Secret subject" not in final and notices.HIDDEN_SUBJECT.encode() in final
    assert signatures(final) == 2 and well_signed(final, dns)


async def test_nobody_to_mail_costs_no_signature(settings, store):
    """queue() with no recipients queues nothing (None, as outbound.enqueue answers)."""
    mlist = await lists.create(store, "team@example.org")
    keys.generate(settings, "example.org")
    note = owner_mail.plain(mlist, "ann@example.org", "nobody", ["x"])
    assert await store.write(outgoing.queue, settings, mlist, note, []) is None
