"""Quoted text of a post, found so that a page can fold it: runs of '>' lines with their "On ... wrote:" line.

A reply usually carries its parent whole; on a thread page that is the same
text again and again. The page folds each run into <details> (no script
needed) and says how many lines it holds. Only the lines are sorted here; the
template escapes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The line a mail program writes above what it quotes, in the languages of the list's members' programs.
_ATTRIBUTION_END = re.compile(r"(wrote|writes|schrieb|a écrit|escribió|escreveu|scrisse|schreef)\s*:\s*$", re.I)
_ATTRIBUTION_START = re.compile(r"^\s*(On|Am|Le|El|Em|Il|Op)\s", re.I)


@dataclass(frozen=True)
class Block:
    """A piece of a post's text: shown as it is, or quoted (folded); lines without their line ends."""

    quoted: bool
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def blocks(text: str) -> list[Block]:
    """The post's text cut into plain and quoted blocks, in order.

    A quoted block is a run of lines starting with '>' (blank lines between
    two such lines belong to it), with the attribution line(s) just before it
    ("On Mon, ... Ann <ann@example.org> wrote:", possibly wrapped over two
    lines, possibly followed by a blank line).

    >>> [(b.quoted, b.lines) for b in blocks("Yes.\\n\\nOn Mon, Ann wrote:\\n> a\\n>\\n> b\\n\\nThanks")]
    [(False, ('Yes.', '')), (True, ('On Mon, Ann wrote:', '> a', '>', '> b')), (False, ('', 'Thanks'))]
    >>> [b.quoted for b in blocks("no quotes here")]
    [False]
    """
    lines = text.split("\n")
    quoted = _quoted_lines(lines)
    found: list[Block] = []
    start = 0
    for n in range(1, len(lines) + 1):
        if n == len(lines) or quoted[n] != quoted[start]:
            found.append(Block(quoted[start], tuple(lines[start:n])))
            start = n
    return found


def _quoted_lines(lines: list[str]) -> list[bool]:
    """For each line: whether it belongs to a quoted block (see blocks)."""
    quoted = [line.startswith(">") for line in lines]
    last_quote = -1
    for n, is_quote in enumerate(quoted):  # blank lines between two quoted lines join them
        if is_quote:
            if last_quote >= 0 and all(not lines[k].strip() for k in range(last_quote + 1, n)):
                quoted[last_quote + 1:n] = [True] * (n - last_quote - 1)
            last_quote = n
    for n in range(len(lines)):
        if quoted[n] and (n == 0 or not quoted[n - 1]):
            _take_attribution(lines, quoted, n)
    return quoted


def _take_attribution(lines: list[str], quoted: list[bool], first: int) -> None:
    """Mark the attribution line(s) just above the quoted run starting at line `first`, when there are any."""
    above = first - 1
    if above >= 0 and not lines[above].strip():
        above -= 1  # one blank line may separate them
    if above < 0 or quoted[above] or not _ATTRIBUTION_END.search(lines[above]):
        return
    top = above
    if not _ATTRIBUTION_START.match(lines[above]) and above > 0 and _ATTRIBUTION_START.match(lines[above - 1]):
        top = above - 1  # "On Mon, 1 Dec 2026 at 09:00, Ann Member" / "<ann@example.org> wrote:"
    quoted[top:first] = [True] * (first - top)

