"""Every real message of the CPython email corpus, posted by a member, ends accepted or held with a reason."""

from pathlib import Path

import pytest

from listserv import lists, message
from listserv.store import held, members, messages, search_index

from tests.conftest import CORPUS

FOLDER = CORPUS / "cpython-email"
# The files without a From: are held by the unparseable rule; those whose From: names no usable
# address ('foo', '<>', a special-use .local domain) by the ambiguous_sender rule; every other file,
# malformed MIME included, is accepted.
HELD_UNPARSEABLE = {
    "msg_05.txt", "msg_11.txt", "msg_18.txt", "msg_19.txt", "msg_26.txt", "msg_37.txt",
    "msg_38.txt", "msg_39.txt", "msg_40.txt", "msg_43.txt",
}
HELD_AMBIGUOUS = {"msg_05.txt", "msg_26.txt", "msg_43.txt"}
FILES = sorted(p.name for p in FOLDER.glob("*") if p.suffix in (".txt", ".eml"))
TABLE = [(name, "held" if name in HELD_UNPARSEABLE else "accepted") for name in FILES]


def test_table_covers_the_whole_corpus():
    """The table has a row for every message file of the corpus (48 of them)."""
    assert len(TABLE) == 48 and HELD_UNPARSEABLE <= set(FILES)


@pytest.mark.parametrize("name, expected", TABLE)
async def test_corpus_message(store, submit, name, expected):
    """Processed as a post from a member, the file ends as in the table, archived whole or held with a reason."""
    raw = (FOLDER / name).read_bytes()
    mlist = await lists.create(store, "team@example.org")
    sender, _ = message.sender(message.parse(raw))
    if sender:
        await store.write(members.add, mlist.id, {"address": sender})
    _, outcome = await submit(raw)
    assert outcome == {"team@example.org": expected}
    if expected == "held":
        [row] = await held.waiting(store.db)
        rule = "ambiguous_sender" if name in HELD_AMBIGUOUS else "unparseable"
        assert [r["rule"] for r in row["reasons"]] == [rule] and await held.raw(store.db, row["id"]) == raw
    else:
        [row] = await messages.for_list(store.db, mlist.id)
        assert await messages.raw(store.db, row["id"]) == raw and row["message_id"]


def test_corpus_folder_is_where_the_table_says():
    """The corpus is read from the shared folder (a moved corpus must fail loudly, not skip)."""
    assert isinstance(FOLDER, Path) and FOLDER.is_dir()


@pytest.mark.parametrize("name", ["qmail_08.txt", "simple_39.txt"])
async def test_bounces_that_break_the_stdlib_are_still_accepted(store, submit, name):
    """An unknown charset (get_content fails) and an unserialisable header (as_bytes fails) still go out."""
    raw = (CORPUS / "bounces" / name).read_bytes()
    mlist = await lists.create(store, "team@example.org")
    sender, _ = message.sender(message.parse(raw))
    await store.write(members.add, mlist.id, {"address": sender})
    await store.write(members.add, mlist.id, {"address": "bob@example.org"})
    _, outcome = await submit(raw)
    assert outcome == {"team@example.org": "accepted"}
    [row] = await messages.for_list(store.db, mlist.id)
    assert (await search_index.fields(store.db, row["id"]))["search_text"]
