"""Turn the store's unix times into what people and scripts read: local time for people, UTC ISO 8601 for JSON.

A person at the server reads its clock: tables and `show` blocks give the
server's local time with the zone's name ("2026-12-01 09:30 CET"), so nobody
has to convert. Scripts read `--json`, which keeps one unambiguous form,
ISO 8601 in UTC, so that their comparisons and sorting never depend on where
the server runs. Notices mailed to members and moderators say UTC (in_utc,
used by listserv.outgoing.owner_mail and listserv.outgoing.command_mail): their readers live in
many zones, and the mail's own Date header carries the zone for their mail
program.
"""

from __future__ import annotations

from datetime import datetime, timezone


def iso(when: float | None) -> str | None:
    """A unix time as "YYYY-MM-DDTHH:MM:SSZ" in UTC (whole seconds); None stays None.

    >>> iso(1795753825.75)
    '2026-11-27T04:30:25Z'
    >>> iso(None) is None
    True
    """
    if when is None:
        return None
    return datetime.fromtimestamp(float(when), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def local(when: float | None) -> str | None:
    """A unix time as "YYYY-MM-DD HH:MM ZONE" in the server's local zone (TZ, else the system's); None stays None.

    The zone is its abbreviation ("CET", "EST") where the system has one,
    else its offset ("+0530"), so the text names one instant wherever it is read.
    """
    if when is None:
        return None
    moment = datetime.fromtimestamp(float(when)).astimezone()
    zone = moment.strftime("%Z")
    if not zone or zone[0] in "+-":
        zone = moment.strftime("%z")
    return moment.strftime("%Y-%m-%d %H:%M ") + zone


def in_utc(when: float) -> str:
    """A unix time as "YYYY-MM-DD HH:MM UTC", for notices mailed to people in many zones.

    >>> in_utc(1795753825.75)
    '2026-11-27 04:30 UTC'
    """
    return datetime.fromtimestamp(float(when), tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def with_iso(row: dict, *keys: str) -> dict:
    """A copy of row with the named time fields (those present) in ISO form.

    >>> with_iso({"id": 1, "received_at": 0.0, "decided_at": None}, "received_at", "decided_at")
    {'id': 1, 'received_at': '1970-01-01T00:00:00Z', 'decided_at': None}
    """
    return {key: iso(value) if key in keys else value for key, value in row.items()}


def with_local(row: dict, *keys: str) -> dict:
    """A copy of row with the named time fields (those present) in local time, for tables and `show` blocks."""
    return {key: local(value) if key in keys else value for key, value in row.items()}


def for_output(row: dict, as_json: bool, *keys: str) -> dict:
    """with_iso for --json, with_local for people: every command that prints times chooses here."""
    return with_iso(row, *keys) if as_json else with_local(row, *keys)
