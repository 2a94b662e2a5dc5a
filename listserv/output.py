"""How the CLI shows things: aligned tables, key/value blocks and JSON, all safe for a terminal.

Subjects and names come from strangers' mail; nothing here lets them carry
control characters or escape sequences to a moderator's screen.
"""

from __future__ import annotations

import json
from typing import Iterable

import click

from listserv import timefmt


def printable(text: str, keep: str = "") -> str:
    """Text safe for a terminal: a stranger's subject must not carry escape sequences to a moderator's screen."""
    return "".join(ch if ch.isprintable() or ch in keep else "?" for ch in text)


def cell(value: object) -> str:
    """One value as a person reads it in a table: yes/no, "-" for nothing, no control characters."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    return printable(str(value))


def plural(count: int, noun: str, many: str = "") -> str:
    """The count with its noun in the right number, so that no message says "1 posts" or "held 1 messages".

    `many` is the plural when adding -s or -es does not make it.

    >>> plural(1, "post"), plural(0, "post"), plural(2, "address"), plural(3, "reply", "replies")
    ('1 post', '0 posts', '2 addresses', '3 replies')
    >>> plural(1, "held message"), plural(5, "day")
    ('1 held message', '5 days')
    """
    if count == 1:
        return f"{count} {noun}"
    if not many:
        many = noun + ("es" if noun.endswith(("s", "x", "ch", "sh")) else "s")
    return f"{count} {many}"


def size(count: int) -> str:
    """A byte count as a person reads it (powers of 1024, one decimal).

    >>> size(512), size(1536), size(10 * 1024 * 1024 + 1), size(3 * 1024 ** 3)
    ('512 bytes', '1.5 KB', '10.0 MB', '3.0 GB')
    >>> size(1)
    '1 byte'
    """
    if count < 1024:
        return plural(count, "byte")
    amount = float(count)
    for unit in ("KB", "MB", "GB"):
        amount /= 1024
        if amount < 1024 or unit == "GB":
            break
    return f"{amount:.1f} {unit}"


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
