"""Reading a members file for `members import`: address[,name[,role]] rows, as spreadsheets write them.

Excel writes "CSV" with the separator of the user's locale: a comma in
English, a semicolon in most of Europe, a tab for "Unicode text". The
separator is read off the first row with more than one field: its first field
is an address (or a column name), which contains none of the separators, so
the first separator outside quotes on that row is the file's. A first line `sep=;`
(Excel's own hint) names it outright. A header row is optional, as before.

The text is UTF-8 (with or without the byte-order mark of "CSV UTF-8"), or
UTF-16 with its byte-order mark ("Unicode text"); a file that is not valid
UTF-8 is what Excel's plain "CSV" writes on Windows, Windows-1252, and is read
as such, with a note saying so (only names can be affected: addresses are
ASCII or refused row by row). A file with NUL bytes is no text file and is
refused whole.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
from dataclasses import dataclass
from typing import Iterable

from listserv.errors import UsageError

SEPARATORS = (",", ";", "\t")
# A column name such as address, Email, E-Mail, Adresse, "correo electrónico": words of letters, never an address
# (no @, no dot), so no member is lost by skipping such a row, and a mistyped address is still reported.
_HEADER_CELL = re.compile(r"[^\W\d_]+(?:[ -][^\W\d_]+)*")
_EXCEL_HINT = "sep="

WINDOWS = "cp1252"  # what Excel's plain "CSV" is written in on Windows
_UTF16_MARKS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

Rows = list[tuple[int, list[str]]]  # (first line number, cells) of each non-blank data row


@dataclass(frozen=True)
class MembersFile:
    """The rows of a members file, and the encoding they were read in."""

    rows: Rows
    encoding: str  # "utf-8", "utf-16" or WINDOWS

    def note(self, path: str | os.PathLike) -> str:
        """What an importer should be told about how the file was read ("" when there is nothing to say)."""
        if self.encoding != WINDOWS:
            return ""
        return (f"{path} is not UTF-8: read as Windows-1252, the encoding Excel saves CSV in; "
                "check that the names came out right")


def read_csv(path: str | os.PathLike) -> Rows:
    """(first line number, cells) of each non-blank row of a members file, header row left out."""
    return read(path).rows


def read(path: str | os.PathLike) -> MembersFile:
    """The members file at path, decoded (see the module docstring) and split into rows.

    A file whose quoting is broken is refused whole: past an unclosed quote
    the row boundaries cannot be trusted, and importing a guess would be worse.
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    text, encoding = decode(raw, str(path))
    return MembersFile(csv_rows(text.splitlines(keepends=True), str(path)), encoding)


def decode(raw: bytes, source: str = "CSV") -> tuple[str, str]:
    r"""(text, encoding) of a members file's bytes; UsageError when they are no text.

    >>> decode("\ufeffann@example.org;Zoë\n".encode("utf-8")), decode("Zoë".encode("utf-16"))
    (('ann@example.org;Zoë\n', 'utf-8'), ('Zoë', 'utf-16'))
    >>> decode("ann@example.org;Müller".encode("cp1252"))
    ('ann@example.org;Müller', 'cp1252')
    """
    if raw.startswith(_UTF16_MARKS):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise UsageError(f"{source}: not UTF-16 text after its byte-order mark (at byte {exc.start})") from None
    if b"\0" in raw:
        raise UsageError(f"{source}: not a text file (it contains NUL bytes; UTF-16 without a byte-order mark?)")
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    try:
        return raw.decode(WINDOWS), WINDOWS
    except UnicodeDecodeError:
        raise UsageError(f"{source}: not UTF-8 text ({utf8_error.reason} at byte {utf8_error.start}), "
                         "nor Windows-1252") from None


def csv_rows(lines: list[str], source: str = "CSV") -> Rows:
    """Split the lines into numbered rows with the file's separator; the first row is a header when its
    first field names a column (a word, not an address).

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
    separator outside quotes on the first line that has one (its first field, an address, has none), else a
    comma (one column: any will do).

    >>> _separator(["sep=;\\n", "ann@example.org;Ann\\n"]), _separator(['"ann@example.org"\\tAnn, Lee\\n'])
    ((';', 1), ('\\t', 0))
    >>> _separator(["ann@example.org\\n", "bob@example.org;Bob, Jr.\\n"]), _separator(["ann@example.org\\n"])
    ((';', 0), (',', 0))
    """
    first = next((line for line in lines if line.strip()), "")
    hint = first.rstrip("\r\n")  # not strip(): the hint may name a tab
    if hint.lower().startswith(_EXCEL_HINT) and len(hint) == len(_EXCEL_HINT) + 1 and hint[-1] in SEPARATORS:
        return hint[-1], lines.index(first) + 1
    for line in lines:
        found = _first_separator(line)
        if found:
            return found, 0
    return ",", 0


def _first_separator(line: str) -> str:
    """The first of SEPARATORS outside double quotes on the line, or ""."""
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in SEPARATORS:
            return char
    return ""


def _is_header(cells: Iterable[str]) -> bool:
    """A first row naming its columns, in any language: address,name,role or E-Mail;Name or Adresse;Nom.

    >>> [_is_header([first]) for first in ("address", "E-Mail", "Adresse", "correo electrónico")]
    [True, True, True, True]
    >>> [_is_header([first]) for first in ("ann@example.org", "ann.example.org", "", "2024")]
    [False, False, False, False]
    """
    return _HEADER_CELL.fullmatch(next(iter(cells), "").strip()) is not None
