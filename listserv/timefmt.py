"""Turn the store's unix times into the one ISO 8601 UTC form that every output uses."""

from __future__ import annotations

from datetime import datetime, timezone


def iso(when: float | None) -> str | None:
    """A unix time as "YYYY-MM-DDTHH:MM:SSZ" in UTC (whole seconds); None stays None.

    One form for JSON and tables alike, so a script and a person read the same
    value, and UTC so that moderators in different time zones agree.

    >>> iso(1795753825.75)
    '2026-11-27T04:30:25Z'
    >>> iso(None) is None
    True
    """
    if when is None:
        return None
    return datetime.fromtimestamp(float(when), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def with_iso(row: dict, *keys: str) -> dict:
    """A copy of row with the named time fields (those present) in ISO form.

    >>> with_iso({"id": 1, "received_at": 0.0, "decided_at": None}, "received_at", "decided_at")
    {'id': 1, 'received_at': '1970-01-01T00:00:00Z', 'decided_at': None}
    """
    return {key: iso(value) if key in keys else value for key, value in row.items()}
