"""Measure a message's MIME shape from its raw bytes, at C speed, before the full parse.

The stdlib parser builds an object per part and per header: 100,000 tiny
parts cost it minutes and gigabytes. One regular-expression pass over the raw
bytes counts what the parser would build (parts, multipart nesting, the
header block), so a message over a cap is held without ever being fully
parsed. The counts read as a mail program would: a part starts at a
delimiter line of a boundary declared earlier; a boundary's closing line, or a
delimiter of an enclosing boundary, ends it. Boundary declarations that no
delimiter line uses (a quoted header in a text part) do not count.

Header blocks are measured at the top and in each part (up to the parts
cap, each up to the header cap, so the work stays bounded): the stdlib parses
some folded headers in quadratic time.
A boundary is read in every form the parser reads it, RFC 2231's
`boundary*=utf-8''b` and `boundary*0=.. boundary*1=..` included. Should a
declaration still escape this reading, the most repeated delimiter-looking
line counts the parts anyway: 100,000 parts need 100,000 such lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

# A boundary parameter anywhere (RFC 2231 section and extended marks, quoted or token), or a line starting with "--".
_EVENTS = re.compile(
    rb'(?i)\bboundary(?:\*(\d{1,3}))?(\*)?\s*=\s*(?:"([^"\r\n]{0,200})"|([^\s;"]{1,200}))'
    rb"|(?m:^--([^\r\n]{1,202}))"
)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
MEASURED_PARTS = 2000  # parts whose header block is measured when there is no parts cap
PART_HEADER_WINDOW = 1 << 20  # bytes searched for the end of one part's header block when there is no header cap


@dataclass(frozen=True)
class Shape:
    """What the full parse of a message would build."""

    parts: int  # MIME parts, the top-level message included
    depth: int  # multipart nesting levels (0: not multipart)
    header_bytes: int  # size of the top-level header block
    part_header_bytes: int = 0  # size of the largest header block of a part (of the first parts, see scan)


@dataclass(frozen=True)
class Caps:
    """The most a message may hold before it is held unparsed; 0 means no cap."""

    max_parts: int = 1000
    max_depth: int = 20
    max_header_bytes: int = 262144


def header_bytes(raw: bytes) -> int:
    r"""Length of the top-level header block (all of raw when no blank line ends it).

    >>> header_bytes(b"Subject: hi\r\n\r\nbody"), header_bytes(b"Subject: hi")
    (13, 11)
    """
    end = _HEADER_END.search(raw)
    return end.start() + (2 if raw[end.start() : end.start() + 1] == b"\r" else 1) if end else len(raw)


def scan(raw: bytes, caps: Caps = Caps()) -> Shape:
    r"""Count parts and nesting in one pass over the raw bytes; measure header blocks as far as `caps` need.

    >>> scan(b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\nx\r\n--b\r\n\r\ny\r\n--b--\r\n')
    Shape(parts=3, depth=1, header_bytes=45, part_header_bytes=4)
    """
    measured = (caps.max_parts or MEASURED_PARTS) + 1
    window = caps.max_header_bytes + 4 if caps.max_header_bytes else PART_HEADER_WINDOW
    declared: set[bytes] = set()
    stack: list[bytes] = []  # open multiparts, outermost first
    where: dict[bytes, int] = {}  # boundary -> its index in stack
    undeclared: dict[bytes, int] = {}  # delimiter-looking lines of no boundary read: how often each
    parts, depth, boundary, part_header = 1, 0, b"", 0
    for match in _EVENTS.finditer(raw):
        line = match[5]
        if line is None:
            boundary = _declared(match, boundary)
            declared.add(boundary)
            continue
        token = line.rstrip()
        if token in declared:
            parts += 1
            if parts <= measured:
                part_header = max(part_header, _block(raw, match.end(), window))
            _open(stack, where, token)
            depth = max(depth, len(stack))
        elif token.endswith(b"--"):
            if token[:-2] in where:
                _close(stack, where, where[token[:-2]])
        else:
            undeclared[token] = undeclared.get(token, 0) + 1
    repeated = max(undeclared.values(), default=0)
    if repeated > 1:  # a line that recurs is a delimiter, of a multipart the declarations did not show
        parts = max(parts, 1 + repeated)
    return Shape(parts, depth, header_bytes(raw), part_header)


def _block(raw: bytes, line_end: int, window: int) -> int:
    """Bytes from a delimiter line's end to the blank line that ends the part's headers (looked for in a window)."""
    stop = min(len(raw), line_end + window)
    crlf = raw.find(b"\n\r\n", line_end, stop)
    stop = crlf + 3 if crlf >= 0 else stop
    lf = raw.find(b"\n\n", line_end, stop)
    return (lf + 2 if lf >= 0 else stop) - line_end


def _declared(match: re.Match, before: bytes) -> bytes:
    r"""The boundary a declaration names; a continuation (RFC 2231 section 1 and on) extends the one before.

    >>> forms = (b'boundary="x"', b"boundary*=utf-8''%41b", b"boundary*1=c")
    >>> [_declared(_EVENTS.search(text), b"ab") for text in forms]
    [b'x', b'Ab', b'abc']
    """
    section, extended, value = match[1], match[2], match[3] if match[3] is not None else match[4]
    if extended:
        if section in (None, b"0") and value.count(b"'") >= 2:
            value = value.split(b"'", 2)[2]  # charset'language'value
        value = unquote_to_bytes(value)
    return before + value if section not in (None, b"0") else value


def _open(stack: list[bytes], where: dict[bytes, int], boundary: bytes) -> None:
    """A delimiter line: its multipart is (still) open; any multipart nested deeper has ended."""
    if boundary in where:
        _close(stack, where, where[boundary] + 1)
        return
    where[boundary] = len(stack)
    stack.append(boundary)


def _close(stack: list[bytes], where: dict[bytes, int], index: int) -> None:
    for boundary in stack[index:]:
        del where[boundary]
    del stack[index:]


def over(shape: Shape, caps: Caps) -> str:
    """The caps the message passes, as one sentence for the moderator; '' when within every cap.

    >>> over(Shape(100000, 1, 300), Caps())
    'limits: 100000 MIME parts, more than 1000'
    """
    found = []
    if caps.max_parts and shape.parts > caps.max_parts:
        found.append(f"{shape.parts} MIME parts, more than {caps.max_parts}")
    if caps.max_depth and shape.depth > caps.max_depth:
        found.append(f"multipart nesting {shape.depth} deep, more than {caps.max_depth}")
    if caps.max_header_bytes and shape.header_bytes > caps.max_header_bytes:
        found.append(f"a header block of {shape.header_bytes} bytes, more than {caps.max_header_bytes}")
    elif caps.max_header_bytes and shape.part_header_bytes > caps.max_header_bytes:
        found.append(f"a part's header block of more than {caps.max_header_bytes} bytes")
    return "limits: " + "; ".join(found) if found else ""
