"""Split a From/To/Cc header value into its entries by the RFC 5322 grammar, as a mail program reads it.

The leak guard and the sender check must see every entry a mail program
would act on, whether or not email-validator accepts it: a quoted local
part, a domain literal, a dotless or special-use domain, an IDN or plain
garbage is still a recipient (or a sender) to somebody's mail program. So
the value is split by its syntax alone: quoted strings, comments, domain
literals and angle-addrs are read as units, commas (and the semicolons
Outlook users type) separate entries, and a group (`name: a, b;`) gives its
members. RFC 2047 encoded words are opaque units too and are never decoded
here: whatever a decoded display name says (a comma, an angle bracket, an
encoded line break and a Bcc:), it cannot change an address.

The address of an entry is its angle-addr when it has one (what a mail
program shows and sends to: `ann@example.org <evil@x.example>` is evil),
else its addr-spec with comments dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from listserv.addresses import INVISIBLE, try_normalise

_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_WORD_END = re.compile(r'[\s"(<\[,:;]')
_CLOSING = {'"': '"', "(": ")", "[": "]", "<": ">"}
_SHOWN = 500  # characters of an entry's text kept for a notice or a hold reason


@dataclass(frozen=True)
class Entry:
    """One mailbox (or one unreadable piece) of an address header."""

    text: str  # the entry as written, cleaned (clean()): safe to show in a notice or a hold reason
    address: str  # angle-addr, else addr-spec without comments, as written; '' for none or an unclosed <...
    name: str  # display name as written (encoded words not decoded); the comment when there is no phrase
    angles: int  # angle-addrs in the entry: more than one means no two mail programs agree on the address
    grouped: bool  # the entry came from group syntax (`name: a, b;`), or is a group name that holds an '@'


def clean(text: str) -> str:
    """Text safe to show on one line: folding undone, control and format characters removed, length bounded.

    >>> clean("evil\\x00@x.example\\r\\n Bcc: \\u202eoops")
    'evil@x.example Bcc: oops'
    """
    text = " ".join(text.split())
    text = "".join(ch for ch in text if unicodedata.category(ch) not in INVISIBLE).strip()
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def entries(value: str) -> list[Entry]:
    """Every entry of one raw header value, in order; empty entries (`a,,b`, `undisclosed:;`) give none.

    The value is the header as received (listserv.message.raw_values), not a decoded one.

    >>> [e.address for e in entries('Ann <ann@example.org>, "Doe, J" <j@x.example>, bob@example.org (Bob)')]
    ['ann@example.org', 'j@x.example', 'bob@example.org']
    >>> [(e.address, e.angles) for e in entries('ann@example.org <evil@x.example>')]
    [('evil@x.example', 1)]
    >>> [e.address for e in entries('"john.outsider"@gmail.com, prosecutor@[192.0.2.7]; team: x@internal;')]
    ['"john.outsider"@gmail.com', 'prosecutor@[192.0.2.7]', 'x@internal']
    >>> entries('undisclosed-recipients:;')
    []
    """
    found: list[Entry] = []
    current: list[tuple[str, str]] = []
    in_group = False
    for kind, text in _tokens(value or ""):
        if kind == ":" and not in_group:  # a group: its name is no address, unless it looks like one
            named = _entry(current, True)
            found += [entry for entry in named if "@" in entry.text]
            current, in_group = [], True
        elif kind in ",;":
            found += _entry(current, in_group)
            current, in_group = [], in_group and kind == ","
        else:
            current.append((kind, text))
    return found + _entry(current, in_group)


def _tokens(value: str) -> list[tuple[str, str]]:
    """(kind, text) pairs; kind is the opening character of a unit ('"', '(', '[', '<'), a separator, ' ' or 'w'."""
    tokens = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch in _CLOSING:
            end = _unit_end(value, i)
        elif ch in ",:;":
            end = i + 1
        elif ch.isspace():
            end = i + 1
            ch = " "
        else:
            end, ch = _word_end(value, i), "w"
        tokens.append((ch, value[i:end]))
        i = end
    return tokens


def _word_end(value: str, start: int) -> int:
    """The end of a run of ordinary characters; an encoded word is taken whole, whatever it holds."""
    end = start
    while end < len(value):
        encoded = _ENCODED_WORD.match(value, end)
        if encoded:
            end = encoded.end()
        elif _WORD_END.match(value, end):
            break
        else:
            end += 1
    return end


def _unit_end(value: str, start: int) -> int:
    """Where a quoted string, comment (nested), domain literal or angle-addr opened at start ends.

    Backslash escapes are honoured; inside an angle-addr quoted strings and
    literals are skipped whole. An unclosed unit runs to the end of the value.
    """
    opening = value[start]
    closing = _CLOSING[opening]
    depth, i = 1, start + 1
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            i += 2
            continue
        if ch == closing:
            depth -= 1
            if depth == 0:
                return i + 1
        elif opening == "(" and ch == "(":
            depth += 1
        elif opening == "<" and ch in '"[(':
            i = _unit_end(value, i)
            continue
        i += 1
    return len(value)


def _entry(tokens: list[tuple[str, str]], grouped: bool) -> list[Entry]:
    """The Entry of one comma-separated piece, or none when it holds only blanks and comments."""
    if all(kind in " (" for kind, _ in tokens):
        return []
    text = clean("".join(text for _, text in tokens))
    angles = [text for kind, text in tokens if kind == "<"]
    if angles:
        first = next(i for i, (kind, _) in enumerate(tokens) if kind == "<")
        name = "".join(_unquoted(text) if kind == '"' else text for kind, text in tokens[:first] if kind != "(")
        return [Entry(text, _angle_address(angles[0]), name.strip(), len(angles), grouped)]
    spec = "".join(" " if kind == " " else text for kind, text in tokens if kind != "(")
    comments = [text[1:-1] for kind, text in tokens if kind == "(" and text.endswith(")")]
    return [Entry(text, " ".join(spec.split()), comments[0] if comments else "", 0, grouped)]


def _angle_address(unit: str) -> str:
    """The address inside <...>, without an obsolete source route (`<@relay:ann@x>`); '' when never closed.

    >>> _angle_address("<@a.example,@b.example:ann@example.org>"), _angle_address("< ann@example.org >")
    ('ann@example.org', 'ann@example.org')
    >>> _angle_address("<ann@example.org")
    ''
    """
    if not unit.endswith(">"):
        return ""
    inner = unit[1:-1].strip()
    if inner.startswith("@") and ":" in inner:
        inner = inner.partition(":")[2]
    return inner.strip()


def _unquoted(unit: str) -> str:
    """The content of a quoted string, backslash escapes resolved.

    >>> _unquoted('"Lee, \\"Ann\\""')
    'Lee, "Ann"'
    """
    inner = unit[1:-1] if len(unit) > 1 and unit.endswith('"') else unit[1:]
    return re.sub(r"\\(.)", r"\1", inner)


def recipients(values: list[str]) -> list[str]:
    """Every entry of To/Cc values as the leak guard names it: the normalised address when it has one usable
    address, else the entry's cleaned text (a quoted local part, a domain literal, a dotless or special-use
    domain, garbage). In order, without repeats.

    >>> recipients(['Ann <ANN@example.org>, "john.outsider"@gmail.com, x@internal, ann@example.org'])
    ['ann@example.org', '"john.outsider"@gmail.com', 'x@internal']
    """
    found: dict[str, None] = {}  # ordered, and no quadratic search on a header of thousands of entries
    for entry in (entry for value in values for entry in entries(value)):
        usable = try_normalise(entry.address) if entry.angles <= 1 and entry.address else None
        found[usable or entry.text] = None
    found.pop("", None)
    return list(found)


def sole_mailbox(values: list[str]) -> tuple[str, str, str]:
    """(address normalised, display name as written, '') for From values naming exactly one usable mailbox;
    ('', '', why) otherwise: the sender is then ambiguous and never taken for anyone.

    >>> sole_mailbox(['ann@example.org)<evil@x.example>'])
    ('evil@x.example', 'ann@example.org)', '')
    >>> sole_mailbox(['ann@example.org', 'bob@example.org'])[2]
    '2 From: headers'
    >>> sole_mailbox(['ann@example.org, bob@example.org'])[2]
    '2 addresses in From:'
    """
    if not values:  # no From: at all is the unparseable rule's case, not an ambiguity
        return "", "", ""
    if len(values) != 1:
        return "", "", f"{len(values)} From: headers"
    found = entries(values[0])
    if len(found) != 1:
        return "", "", f"{len(found)} addresses in From:"
    entry = found[0]
    if entry.grouped:
        return "", "", f"group syntax in From: {entry.text!r}"
    if entry.angles > 1:
        return "", "", f"{entry.angles} angle-addrs in From: {entry.text!r}"
    address = try_normalise(entry.address) if entry.address else None
    if not address:
        return "", "", f"From: {entry.text!r} is not one usable address"
    return address, entry.name, ""
