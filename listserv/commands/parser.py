"""Read the commands of a message to NAME-request@: the subject, then the body's own lines, up to MAX_COMMANDS.

The subject counts when it is a command (after "Re:"-style and list prefixes,
so replying to a confirmation works); otherwise it is ignored, because people
write anything there. In the body only the sender's own words count (text
they quote, its "... wrote:" line and an Outlook-quoted original are skipped,
as archive search skips them); reading stops at a signature ("-- "), a
separator line, `end`, or the first line that is not a command, which the
reply then names. A command repeated word for word runs once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from listserv.archive.search import searchable_text
from listserv.message import one_line

MAX_COMMANDS = 10
NAMES = ("help", "info", "subscribe", "unsubscribe", "set", "who", "search", "get", "confirm")
ALIASES = {"join": "subscribe", "leave": "unsubscribe", "unsub": "unsubscribe", "signoff": "unsubscribe"}
STOPS = ("end", "stop")  # "end" after the commands, before a text the sender's mail client appends
NO_ARGUMENTS = ("help", "info", "who") + STOPS  # with more words the line is prose ("who can help me?")
SHOWN = 100  # characters of a line echoed in the reply
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|antw|wg|fwd?|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_SEPARATOR = re.compile(r"^\s*(-{2,}|_{3,}|={3,})\s*$")


@dataclass(frozen=True)
class Command:
    """One command line: the command word (aliases resolved), the rest of the line, and the line as typed."""

    name: str
    rest: str
    line: str  # one line, shortened to SHOWN characters: echoed in the reply

    def key(self) -> tuple[str, str]:
        return self.name, " ".join(self.rest.casefold().split())


@dataclass(frozen=True)
class Commands:
    """Everything read from one message."""

    commands: tuple[Command, ...] = ()
    unknown: str = ""  # the first line that is not a command, shortened ('' when none); reading stopped there
    truncated: bool = False  # more than MAX_COMMANDS commands: those after the limit were not read


def read_line(line: str) -> Command | None:
    """The command a line holds, or None when it is not one.

    >>> read_line("Subscribe ann@example.org")
    Command(name='subscribe', rest='ann@example.org', line='Subscribe ann@example.org')
    >>> read_line("help!").name, read_line("join").name
    ('help', 'subscribe')
    >>> read_line("who can tell me about Ohio?") is None, read_line("Hello all") is None
    (True, True)
    """
    words = line.strip().split(None, 1)
    if not words:
        return None
    word = words[0].casefold().rstrip(":.!?,;")
    name = ALIASES.get(word, word)
    rest = words[1].strip() if len(words) > 1 else ""
    if name not in NAMES + STOPS or (rest and name in NO_ARGUMENTS):
        return None
    return Command(name, rest, shown(line))


def shown(line: str) -> str:
    """A line as echoed in the reply: one line without control characters, at most SHOWN characters."""
    text = "".join(ch if ch.isprintable() else "?" for ch in one_line(line))
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def subject_line(subject: str, prefix: str = "") -> str:
    """The subject without the list prefix and reply markers: what may be a command.

    >>> subject_line("Re: [team] confirm 0a1b", "[team]")
    'confirm 0a1b'
    >>> subject_line("AW: WG: help")
    'help'
    """
    text = re.sub(re.escape(prefix), " ", subject, flags=re.IGNORECASE) if prefix else subject
    return _REPLY_PREFIX.sub("", text).strip()


def body_lines(body_text: str) -> list[str]:
    """The body's own non-blank lines, up to a signature or separator line."""
    lines = []
    for line in searchable_text(body_text).splitlines():
        if _SEPARATOR.match(line):
            break
        if line.strip():
            lines.append(line.strip())
    return lines


def parse(subject: str, body_text: str, prefix: str = "") -> Commands:
    """The commands of a message, in order, at most MAX_COMMANDS.

    >>> found = parse("Re: [team] set delivery digest", "who\\n\\nsearch records\\nThanks!\\nget 3", "[team]")
    >>> [(c.name, c.rest) for c in found.commands], found.unknown
    ([('set', 'delivery digest'), ('who', ''), ('search', 'records')], 'Thanks!')
    >>> parse("Question", "help\\n-- \\nAnn\\nsubscribe").commands[0].name, parse("Question", "").commands
    ('help', ())
    >>> found = parse("", "\\n".join(f"get {n}" for n in range(12)))
    >>> len(found.commands), found.truncated
    (10, True)
    >>> found = parse("confirm abc", "> confirm abc\\nconfirm abc\\nend\\nHello")
    >>> [c.line for c in found.commands], found.unknown
    (['confirm abc'], '')
    """
    commands: list[Command] = []
    seen: set[tuple[str, str]] = set()
    subject = subject_line(subject, prefix)
    for line in ([subject] if read_line(subject) else []) + body_lines(body_text):
        command = read_line(line)
        if command is None:
            return Commands(tuple(commands), shown(line))
        if command.name in STOPS:
            break
        if command.key() in seen:
            continue
        if len(commands) == MAX_COMMANDS:
            return Commands(tuple(commands), truncated=True)
        seen.add(command.key())
        commands.append(command)
    return Commands(tuple(commands))
