"""The command parser as a table: subject and body lines, signature stop, the 10-command limit, unknown lines."""

from __future__ import annotations

import doctest

import pytest

from listserv.commands import parser

# (subject, body, expected [(name, rest)], expected unknown line, truncated)
CASES = [
    ("subscribe", "", [("subscribe", "")], "", False),
    ("Re: [team] confirm 0123abcd", "", [("confirm", "0123abcd")], "", False),  # a reply to a confirmation
    ("Question about the list", "help", [("help", "")], "", False),  # a subject that is no command is ignored
    ("", "set delivery digest\nset ownposts off", [("set", "delivery digest"), ("set", "ownposts off")], "", False),
    ("", "who\n\ninfo\n", [("who", ""), ("info", "")], "", False),  # blank lines are skipped
    ("", "help\nHi all, please add me\nsubscribe", [("help", "")], "Hi all, please add me", False),
    ("", "get 3\n-- \nAnn Lee\nsubscribe", [("get", "3")], "", False),  # the signature ends the commands
    ("", "get 3\n--\nAnn Lee", [("get", "3")], "", False),  # a signature without its trailing space too
    ("", "info\n________________\nFrom: x", [("info", "")], "", False),  # Outlook's separator line
    ("", "search \"school records\" after:2024-01-01", [("search", '"school records" after:2024-01-01')], "", False),
    ("", "Thanks\nhelp", [], "Thanks", False),
    ("", "who is the moderator here?", [], "who is the moderator here?", False),  # prose, not the who command
    ("", "JOIN\nLeave", [("subscribe", ""), ("unsubscribe", "")], "", False),  # aliases, any case
    ("", "help\nend\nthis is my signature block", [("help", "")], "", False),
    ("", "> confirm aaa\nOn Mon, Ann wrote:\n> help\n\nconfirm bbb", [("confirm", "bbb")], "", False),  # quotes
    ("confirm abc", "confirm abc\nCONFIRM ABC", [("confirm", "abc")], "", False),  # repeats run once
    ("help", "\n".join(f"get {n}" for n in range(10)), [("help", "")] + [("get", str(n)) for n in range(9)], "", True),
    ("", "\n".join(f"get {n}" for n in range(10)), [("get", str(n)) for n in range(10)], "", False),
    ("", "", [], "", False),
]


@pytest.mark.parametrize("subject, body, commands, unknown, truncated", CASES)
def test_parse_table(subject, body, commands, unknown, truncated):
    """Each row: the commands read, the line that stopped reading, and whether the limit cut the rest."""
    found = parser.parse(subject, body, "[team]")
    assert [(c.name, c.rest) for c in found.commands] == commands
    assert found.unknown == unknown
    assert found.truncated == truncated


def test_long_lines_are_shortened_in_the_echo_but_not_in_the_command():
    """A long search keeps its whole query; the line echoed in the reply is cut to SHOWN characters."""
    query = "word " * 60
    [command] = parser.parse("", f"search {query}").commands
    assert command.rest == query.strip()
    assert len(command.line) == parser.SHOWN and command.line.endswith("…")


def test_unknown_line_is_one_line_and_shortened():
    """The echoed unknown line has no control characters and at most SHOWN characters."""
    found = parser.parse("", "\x1b[31m" + "x" * 500)
    assert len(found.unknown) == parser.SHOWN and "\n" not in found.unknown and "\x1b" not in found.unknown


def test_doctests():
    """The examples in the parser's docstrings hold."""
    assert doctest.testmod(parser).failed == 0
