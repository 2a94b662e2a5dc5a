"""Give the space of deleted and purged content back to the disk (`listserv archive compact`).

Purges and deletions zero what they remove (secure_delete) but leave the
freed pages in the file; VACUUM rebuilds the file without them, and emptying
the write-ahead log afterwards makes the file shrink and leaves no old page
copy behind. It is also the remedy when a purge or `lists delete` could not
empty the log because another program kept reading (StoreBusy).

An archive fed by mail alone has no packing dictionary (the first import
trains one); compacting trains it on the archive's posts and packs them again
with it, which is where most of their space comes back.
"""

from __future__ import annotations

from dataclasses import dataclass

from listserv.store import Store, repack, search_index


@dataclass(frozen=True)
class Compacted:
    """The bytes the database took on disk (file and write-ahead log) before and after."""

    bytes_before: int
    bytes_after: int

    @property
    def bytes_freed(self) -> int:
        return max(0, self.bytes_before - self.bytes_after)

    def as_json(self) -> dict:
        return {"bytes_before": self.bytes_before, "bytes_after": self.bytes_after, "bytes_freed": self.bytes_freed}


async def compact(store: Store) -> Compacted:
    """Pack with a first dictionary if there is none, merge the search index (deleted words stay in its pages
    until a merge), VACUUM, empty the log."""
    before = store.size()
    await store.write(repack.with_first_dictionary)
    await store.write(search_index.optimize)
    await store.compact()
    return Compacted(before, store.size())
