"""Migration 0009: lists that received posts before the 'post' mark existed get it from the archive and held posts."""

from __future__ import annotations

from listserv import lists
from listserv.store import Store, health, held, migrate

LIST = "team@example.org"
QUIET = "quiet@example.org"


async def test_upgrade_fills_the_mark_from_the_newest_archived_or_held_post(tmp_path, monkeypatch):
    """The mark is the later of the newest archived post that came in by mail and the newest held post;
    imported posts do not count, and a list with none has no mark."""
    everything = migrate.migrations()
    monkeypatch.setattr(migrate, "migrations", lambda: [m for m in everything if m[0] < 9])
    old = await Store.open(tmp_path / "old.db")
    team = await lists.create(old, LIST)
    quiet = await lists.create(old, QUIET)
    await old.write(_old_add, team.id, _message("a@x.org", 1000.0, inbound_id=7))
    await old.write(_old_add, team.id, _message("b@x.org", 5000.0, inbound_id=None))  # imported
    await old.write(held.hold, team.id, {"reasons": [], "raw": b"x", "received_at": 2000.0})
    await old.write(_old_add, quiet.id, _message("c@x.org", 9000.0, inbound_id=None))  # imported only
    await old.close()
    monkeypatch.setattr(migrate, "migrations", lambda: everything)
    upgraded = await Store.open(tmp_path / "old.db")
    try:
        assert await health.last_posts(upgraded.db) == {team.id: 2000.0}
    finally:
        await upgraded.close()


async def _old_add(db, list_id: int, post: dict) -> None:
    """An archived post as the code before migration 0018 wrote it (raw and body text in columns of their own)."""
    columns = ", ".join(post)
    await db.execute(
        f"INSERT INTO messages (list_id, {columns}) VALUES (?, {', '.join('?' for _ in post)})", (list_id, *post.values())
    )


def _message(message_id: str, received_at: float, inbound_id: int | None) -> dict:
    return {"message_id": message_id, "date": received_at, "received_at": received_at, "sender": "ann@example.org",
            "subject": "s", "body_text": "b", "inbound_id": inbound_id, "raw": b"raw"}
