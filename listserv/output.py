"""How the CLI shows things: aligned tables, key/value blocks and JSON, all safe for a terminal.

Subjects and names come from strangers' mail; nothing here lets them carry
control characters or escape sequences to a moderator's screen.
"""

from __future__ import annotations

import json
from typing import Iterable

import click

from listserv import timefmt
from listserv.wording import cell, plural, printable, size  # the CLI's modules import them from here


def emit_json(data: object) -> None:
    """JSON with non-ASCII escaped, so even raw JSON on a terminal cannot carry control characters."""
    click.echo(json.dumps(data, indent=2))


def emit_table(rows: list[dict], columns: Iterable[tuple[str, str]], empty: str) -> None:
    """Aligned columns under a header line; `empty` when there is nothing to show."""
    if not rows:
        click.echo(empty)
        return
    columns = list(columns)
    lines = [[title for title, _ in columns]] + [[cell(row.get(key)) for _, key in columns] for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    for line in lines:
        click.echo("  ".join(text.ljust(width) for text, width in zip(line, widths)).rstrip())


def emit_fields(obj: dict) -> None:
    """One `key: value` line per field, for the show commands."""
    width = max((len(key) for key in obj), default=0)
    for key, value in obj.items():
        click.echo(f"{key + ':':<{width + 1}} {cell(value)}")


def emit_listing(
    rows: list[dict], as_json: bool, columns: Iterable[tuple[str, str]], empty: str, times: Iterable[str] = ()
) -> None:
    """A listing as JSON (--json) or as a table: every `ls` command ends here.

    `times` names the fields holding unix times: UTC ISO 8601 in JSON, the
    server's local time with its zone in the table (listserv.timefmt).
    """
    times = tuple(times)
    rows = [timefmt.for_output(row, as_json, *times) for row in rows]
    if as_json:
        emit_json(rows)
    else:
        emit_table(rows, columns, empty)
