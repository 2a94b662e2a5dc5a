"""`archive import` packs posts in its parse workers: what they pack is stored intact, with the archive's dictionary."""

from __future__ import annotations

from listserv import lists
from listserv.archive import importer
from listserv.store import dictionaries, messages, packing, search_index
from tests.archive.test_mbox import as_mbox, post, write

LIST = "team@example.org"
POSTS = 360  # three batches of 120: the first trains the dictionary (TRAIN_MIN 100), workers pack the next two


def _posts() -> list[bytes]:
    return [post(f"p{n}@example.org", f"Question {n} about a sentencing memo", f"2019-01-{n % 28 + 1:02d}",
                 body=f"Post {n}: has anyone used a mitigation expert for case {n}?\n\n-- \nAnn\n")
            for n in range(POSTS)]


async def test_posts_packed_by_workers_read_back_exactly(settings, store, tmp_path, monkeypatch):
    """Posts packed by the parse workers unpack to their exact bytes and the same search text as posts
    imported in this process, and name the dictionary the first batch trained."""
    raws = _posts()
    path = write(tmp_path, "in.mbox", as_mbox(raws))
    monkeypatch.setattr(importer, "SMALL", 0)
    monkeypatch.setattr(importer, "BATCH", 120)
    monkeypatch.setattr(importer, "WINDOW", 1)  # the first batch is written (and trains) before the next is sent
    pooled = await lists.create(store, LIST)
    assert (await importer.import_mbox(store, LIST, path, workers=2, settings=settings)).imported == POSTS
    here = await lists.create(store, "here@example.org")
    await importer.import_mbox(store, here.address, path, workers=1, settings=settings)
    dictionary = await dictionaries.current(store.db)
    by_id = {f"p{n}@example.org": raw for n, raw in enumerate(raws)}
    texts = {}
    for row in await messages.for_list(store.db, pooled.id):
        stored = await messages.raw(store.db, row["id"])
        assert stored == by_id[row["message_id"]]
        texts[row["message_id"]] = (await search_index.fields(store.db, row["id"]))["search_text"]
    assert texts == {row["message_id"]: (await search_index.fields(store.db, row["id"]))["search_text"]
                     for row in await messages.for_list(store.db, here.id)}
    frames = await store.db.execute_fetchall("SELECT packed FROM messages WHERE list_id = ?", (pooled.id,))
    assert dictionary is not None and {packing.dictionary_of(frame) for (frame,) in frames} == {dictionary.id}


async def test_a_frame_packed_with_another_dictionary_is_packed_again(settings, store):
    """A row packed by a worker with a dictionary that is no longer the archive's is packed again when written,
    so every stored frame unpacks with a dictionary the database holds."""
    team = await lists.create(store, LIST)
    stale = packing.pack(b"other bytes", "other words", None)
    raw = post("fresh@example.org", "Memo", "2019-01-02")
    await store.write(messages.add_many, team.id, [{
        "message_id": "fresh@example.org", "date": 1.0, "raw": raw, "search_text": "memo words",
        "packed": stale, "packed_with": 12345}])
    (row,) = await messages.for_list(store.db, team.id)
    assert await messages.raw(store.db, row["id"]) == raw
    assert (await search_index.fields(store.db, row["id"]))["search_text"] == "memo words"
