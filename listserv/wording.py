"""How counts, sizes and values are worded for people: the pure helpers of the CLI's output, apart from click.

They live apart from `listserv.output` so that the pipeline process and the
daemon, which word notices and log lines with them, do not import click (2 MB
resident in each process, measured in bench/README.md).
"""

from __future__ import annotations


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
