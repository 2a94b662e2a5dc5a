"""`archive import` reads the author as the pipeline does: the angle-addr, never a display name dressed as one."""

from __future__ import annotations

import mailbox

import pytest

from listserv import lists
from listserv.archive.importer import import_mbox
from listserv.store import messages

CASES = [
    ("ann@example.org <evil@x.example>", "evil@x.example"),
    ("ann@example.org)<evil@x.example>", "evil@x.example"),
    ("=?utf-8?q?ann=40example=2Eorg?= <evil@x.example>", "evil@x.example"),
    ("Ann Lee <Ann@Example.ORG>", "ann@example.org"),
    ("ann at example.org (Ann Lee)", "ann@example.org"),  # pipermail's way of hiding addresses
    ("ann@example.org, bob@example.org", ""),  # ambiguous: nobody
]


@pytest.mark.parametrize("value,expected", CASES)
async def test_imported_sender_is_the_one_a_mail_program_shows(settings, store, tmp_path, value, expected):
    """The archived sender of an imported post is the address a mail program would show for its From."""
    mlist = await lists.create(store, "old@example.org")
    box = mailbox.mbox(tmp_path / "in.mbox")
    box.add(f"From: {value}\nSubject: minutes\nMessage-ID: <m1@example.org>\n\nText.\n".encode())
    box.close()
    await import_mbox(store, mlist.address, tmp_path / "in.mbox", workers=1, settings=settings)
    [post] = await messages.for_list(store.db, mlist.id)
    assert post["sender"] == expected
