"""Reading a members file for `members import`: address[,name[,role]] rows, as spreadsheets write them.

Excel writes "CSV" with the separator of the user's locale: a comma in
English, a semicolon in most of Europe, a tab for "Unicode text"; and a UTF-8
byte-order mark in front. The separator is read off the first row: its first
field is an address (or the header word "address"), which contains none of the
separators, so the first separator outside quotes on that row is the file's. A
first line `sep=;` (Excel's own hint) names it outright. A header row is
optional, as before.
"""

from __future__ import annotations

import csv
import os
from typing import Iterable

from listserv.errors import UsageError

SEPARATORS = (",", ";", "\t")
_HEADER_WORDS = ("address", "email")  # never valid addresses, so no member is lost by skipping such a row
_EXCEL_HINT = "sep="

Rows = list[tuple[int, list[str]]]  # (first line number, cells) of each non-blank data row


def read_csv(path: str | os.PathLike) -> Rows:
    """(first line number, cells) of each non-blank row of a members file, header row left out.

    UTF-8 with or without a byte-order mark (what spreadsheets write). A file
    whose quoting is broken is refused whole: past an unclosed quote the row
    boundaries cannot be trusted, and importing a guess would be worse.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return csv_rows(handle.readlines(), str(path))
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def csv_rows(lines: list[str], source: str = "CSV") -> Rows:
    """Split the lines into numbered rows with the file's separator; the first row is a header when it
    starts with "address" or "email".

    >>> csv_rows(["address,name,role\\n", "\\n", "ann@example.org, \\"Smith, Ann\\",owner\\n"])
    [(3, ['ann@example.org', 'Smith, Ann', 'owner'])]
    >>> csv_rows(["Address;Name\\r\\n", "ann@example.org;Smith, Ann\\r\\n"])
    [(2, ['ann@example.org', 'Smith, Ann'])]
    """
    separator, skipped = _separator(lines)
    reader = csv.reader(lines[skipped:], delimiter=separator, strict=True, skipinitialspace=True)
    rows: Rows = []
    start, first = 1 + skipped, True
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                if not (first and _is_header(cells)):
                    rows.append((start, cells))
                first = False
            start = reader.line_num + 1 + skipped
    except csv.Error as exc:
        raise UsageError(f"{source}: line {reader.line_num + skipped}: {exc}; nothing imported") from None
    return rows


def _separator(lines: list[str]) -> tuple[str, int]:
    """(the file's separator, how many leading lines only named it): Excel's `sep=X` line, else the first
    separator outside quotes on the first non-blank line, else a comma (one column: any will do).

    >>> _separator(["sep=;\\n", "ann@example.org;Ann\\n"]), _separator(['"ann@example.org"\\tAnn, Lee\\n'])
    ((';', 1), ('\\t', 0))
    """
    first = next((line for line in lines if line.strip()), "")
    hint = first.rstrip("\r\n")  # not strip(): the hint may name a tab
    if hint.lower().startswith(_EXCEL_HINT) and len(hint) == len(_EXCEL_HINT) + 1 and hint[-1] in SEPARATORS:
        return hint[-1], lines.index(first) + 1
    quoted = False
    for char in first:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in SEPARATORS:
            return char, 0
    return ",", 0


def _is_header(cells: Iterable[str]) -> bool:
    """A first row naming its columns, e.g. address,name,role."""
    return next(iter(cells), "").strip().lower() in _HEADER_WORDS
