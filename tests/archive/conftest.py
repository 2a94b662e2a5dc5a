"""Fixtures for archive search tests: a real store with a list, and a helper that archives posts like the pipeline does."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from listserv import lists
from listserv.archive.search import index_fields
from listserv.store import messages

_numbers = itertools.count(1)


def day(text: str) -> float:
    """Unix time of an ISO date or date-time in UTC: day('2024-03-01'), day('2024-03-01T10:00')."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


class Archive:
    """A list in a real store, and add() to archive posts into it the way the pipeline does."""

    def __init__(self, store, list_id: int) -> None:
        self.store = store
        self.list_id = list_id

    async def add(self, body: str = "", subject: str = "post", when: str = "2024-01-01T12:00", **fields) -> int:
        """Archive one post; search_text and attachments come from index_fields, as in the pipeline."""
        row = {
            "message_id": fields.pop("message_id", f"m{next(_numbers)}@example.org"),
            "date": day(when), "subject": subject, "body_text": body,
            "sender": fields.pop("sender", "ann@example.org"), "sender_name": fields.pop("sender_name", "Ann Lee"),
            **index_fields(fields.pop("msg", None), body), **fields,
        }
        return await self.store.write(messages.add, self.list_id, row)

    async def other_list(self, address: str = "other@example.org") -> Archive:
        created = await lists.create(self.store, address)
        return Archive(self.store, created.id)


@pytest.fixture
async def archive(store) -> Archive:
    created = await lists.create(store, "team@example.org")
    return Archive(store, created.id)
