"""listserv.timefmt: every time in CLI output is one ISO 8601 UTC form."""

from __future__ import annotations

from listserv.timefmt import iso, with_iso


def test_iso_is_utc_with_z_and_whole_seconds():
    """A unix time becomes YYYY-MM-DDTHH:MM:SSZ in UTC, fractions dropped."""
    assert iso(1795753825.999) == "2026-11-27T04:30:25Z"
    assert iso(0) == "1970-01-01T00:00:00Z"


def test_iso_keeps_none():
    """A missing time (e.g. not decided yet) stays None, which JSON prints as null."""
    assert iso(None) is None


def test_with_iso_converts_only_named_fields_and_copies():
    """with_iso converts the named keys that are present and leaves the row it was given alone."""
    row = {"id": 7, "received_at": 1795753825.0, "attempts": 3}
    converted = with_iso(row, "received_at", "decided_at")
    assert converted == {"id": 7, "received_at": "2026-11-27T04:30:25Z", "attempts": 3}
    assert row["received_at"] == 1795753825.0
