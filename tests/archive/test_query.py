"""The query parser: what each operator compiles to, and a one-line BadQuery for every malformed query."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest

from listserv.archive.query import MAX_LENGTH, MAX_TERMS, Query, Text, parse, tokenize
from listserv.errors import BadQuery, UsageError

# Inside an FTS5 string literal everything is text; outside, only these may appear.
_LITERAL = re.compile(r'"(?:[^"]|"")*"')
_OUR_SYNTAX = re.compile(r"^(?:AND|OR|NOT|\(|\)|subject|:|\{sender_name|sender\}|sender|\s)*$")

VALID = [
    # query, MATCH expression, other fields of the Query that differ from the defaults
    ("mitigation", '"mitigation"', {}),
    ("school records", '"school" AND "records"', {}),
    ('"school records"', '"school records"', {}),
    ("sentencing -juvenile", '("sentencing") NOT ("juvenile")', {}),
    ('report -"pre-sentence" -draft', '("report") NOT ("pre-sentence" OR "draft")', {}),
    ("daubert OR deposition", '("daubert" OR "deposition")', {}),
    ("a b OR c d", '"a" AND ("b" OR "c") AND "d"', {}),
    ("a OR b OR c", '("a" OR "b" OR "c")', {}),
    ('subject:expert OR "expert witness"', '(subject : "expert" OR "expert witness")', {}),
    ("from:jose", '{sender_name sender} : "jose"', {}),
    ('from:"José Núñez"', '{sender_name sender} : "José Núñez"', {}),
    ("from:Ann@Example.org", 'sender : "Ann"', {"senders": ("ann@example.org",)}),
    ("from:@example.org", 'sender : "example.org"', {"senders": ("%@example.org",)}),
    ("from:ann_lee%@x.org", 'sender : "ann_lee%"', {"senders": ("ann\\_lee\\%@x.org",)}),
    ('from:"ann(x)@x.org"', 'sender : "ann(x)"', {"senders": ("ann(x)@x.org",)}),
    ("subject:expert", 'subject : "expert"', {}),
    ('subject:"expert witness" texas', 'subject : "expert witness" AND "texas"', {}),
    ("after:2024-01-31", None, {"after": date(2024, 1, 31)}),
    ("trauma before:2020-02-29", '"trauma"', {"before": date(2020, 2, 29)}),
    ("thread:42", None, {"thread_id": 42}),
    ("has:attachment", None, {"has_attachment": True}),
    ("HAS:Attachments cv", '"cv"', {"has_attachment": True}),
    ("-draft after:2024-01-01", None, {"after": date(2024, 1, 1), "exclude": (Text("draft"),)}),
    ("pre-sentence", '"pre-sentence"', {}),
    ("10:30", '"10:30"', {}),
    ('say"hi"', '"say" AND "hi"', {}),
    ("+required", '"+required"', {}),
    ("x --double", '("x") NOT ("-double")', {}),
    ("or and not", '"or" AND "and" AND "not"', {}),
    ('"AND" "NOT" "NEAR" "OR"', '"AND" AND "NOT" AND "NEAR" AND "OR"', {}),
    ('"sentenc*" "^start" "(a)" "{b}" "c:d"', '"sentenc*" AND "^start" AND "(a)" AND "{b}" AND "c:d"', {}),
    ("café\tnaïve\x00zoë", '"café" AND "naïve" AND "zoë"', {}),
]


@pytest.mark.parametrize("text, match, fields", VALID)
def test_valid_queries_compile(text, match, fields):
    """Each operator and quoting form compiles to the expected MATCH expression and filter values."""
    query = parse(text)
    assert query.match() == match
    for name, value in fields.items():
        assert getattr(query, name) == value


MALFORMED = [
    # query, the one-line message (a fragment of it)
    ("", "empty query"),
    ("   \t ", "empty query"),
    ('"unclosed', 'unclosed quote: the " at position 1 has no closing "'),
    ('records "school', 'the " at position 9 has no closing "'),
    ("from:", "from: needs a name or address right after it"),
    ('from:""', "from: needs a name or address right after it"),
    ("subject:", "subject: needs a word or phrase right after it"),
    ("after:", "after: needs a date (YYYY-MM-DD) right after it"),
    ("after:notadate", "after: needs a date as YYYY-MM-DD, not 'notadate'"),
    ("before:2024-02-30", "before: needs a date as YYYY-MM-DD, not '2024-02-30'"),
    ("after:20240101", "after: needs a date as YYYY-MM-DD, not '20240101'"),
    ("after:2024-01-01 after:2024-02-01", "after: is given twice"),
    ("after:2024-05-01 before:2024-04-01", "after:2024-05-01 is not earlier than before:2024-04-01"),
    ("after:2024-05-01 before:2024-05-01", "is not earlier than"),
    ("thread:", "thread: needs a thread number right after it"),
    ("thread:abc", "thread: needs a thread number, not 'abc'"),
    ("thread:0", "thread: needs a thread number, not '0'"),
    ("thread:-3", "thread: needs a thread number, not '-3'"),
    ("thread:1 thread:2", "thread: is given twice"),
    ("has:pdf", "has: only knows 'attachment', not 'pdf'"),
    ("OR", "OR needs a word or phrase on each side"),
    ("OR trauma", "OR needs a word or phrase on each side"),
    ("trauma OR", "OR needs a word or phrase on each side"),
    ("trauma OR OR abuse", "OR needs a word or phrase on each side"),
    ("trauma OR -abuse", "OR can only join words, phrases and subject: terms"),
    ("trauma OR from:ann", "OR can only join words, phrases and subject: terms"),
    ("after:2024-01-01 OR trauma", "OR needs a word or phrase on each side"),
    ("-trauma OR abuse", "OR needs a word or phrase on each side"),
    ("-", "'-' must be followed by a word or phrase to leave out"),
    ("trauma -", "'-' must be followed by a word or phrase to leave out"),
    ("-from:ann", "'-' can only leave out a word or phrase, not from:"),
    ("-juvenile", "a query of only exclusions would match every post"),
    ('-juvenile -"school records"', "a query of only exclusions would match every post"),
    ("foo:bar", "unknown operator 'foo:': use \"foo:bar\" in quotes to search for the words (operators: from:, "
                "subject:, after:, before:, thread:, has:)"),
    ("Re:records", "unknown operator 're:': use \"Re:records\" in quotes"),
    ("http://example.org", "unknown operator 'http:': use \"http://example.org\" in quotes"),
    # Pasted subjects, URLs and headers: the message gives the quoted form to use instead.
    ("Re: hello", 'use "Re: hello" in quotes to search for the words'),
    ("https://example.org/x", 'use "https://example.org/x" in quotes to search for the words'),
    ("records Fwd: Re: parole hearing", 'use "Fwd: Re: parole" in quotes'),
    ('RE:"school records"', 'use "RE: school records" in quotes'),
    ("-Re: hello", 'use -"Re: hello" in quotes'),
    ("mailto:ann@example.org", 'use "mailto:ann@example.org" in quotes'),
    ("Subject: parole", 'subject: needs a word or phrase right after it, with no space; or use "Subject: parole" in quotes'),
    ("from: Ann Lee", 'from: needs a name or address right after it, with no space; or use "from: Ann" in quotes'),
    ("*", "'*' contains '*', which is not search syntax here"),
    ("sentenc*", "'sentenc*' contains '*'"),
    ("^start", "'^start' contains '^'"),
    ("NEAR(a b)", "NEAR is not supported"),
    ("near(a", "NEAR is not supported"),
    ("NEAR", "NEAR is not supported"),
    ("(a OR b)", "'(a' contains '('"),
    ("b)", "'b)' contains ')'"),
    ("{subject}:x", "'{subject}:x' contains '{'"),
    ("a AND b", "AND is not needed: all words must match already"),
    ("NOT b", "use -word to leave out posts with a word"),
    ("+", "nothing to search for in '+': it has no letters or digits"),
    ("…", "nothing to search for in '…'"),
    ('""', 'nothing to search for in "": it has no letters or digits'),
    ('" * "', 'nothing to search for in "*"'),
    ("from:*", "'*' contains '*'"),
    ("from:@", "nothing to search for in '@'"),
    ("from:ann*@x.org", "'ann*' contains '*'"),
    ("subject:(x)", "'(x)' contains '('"),
    ("x " * (MAX_TERMS + 1), f"query too long: at most {MAX_TERMS} words and operators"),
    ("x" * (MAX_LENGTH + 1), f"query too long: at most {MAX_LENGTH} characters"),
]


@pytest.mark.parametrize("text, message", MALFORMED)
def test_malformed_query_gives_one_line_bad_query(text, message):
    """Every malformed query raises BadQuery (a UsageError: CLI exit 2) whose one-line message says what is wrong."""
    with pytest.raises(BadQuery) as raised:
        parse(text)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, UsageError) and raised.value.exit_code == 2


def test_long_user_text_is_shortened_in_messages():
    """A message quotes at most 40 characters of what was typed, so it stays one readable line."""
    with pytest.raises(BadQuery) as raised:
        parse("after:" + "9" * 200)
    assert len(str(raised.value)) < 100


def test_tokenize_reads_signs_operators_and_quotes():
    """Tokens keep their position, '-' sign, operator and quoting, and control characters split words."""
    tokens = tokenize('-"a b" from:"Ann Lee" x\x07y')
    assert [(t.position, t.negated, t.operator, t.text, t.quoted) for t in tokens] == [
        (1, True, "", "a b", True), (8, False, "from", "Ann Lee", True), (23, False, "", "x", False),
        (25, False, "", "y", False),
    ]


def test_match_string_contains_only_string_literals_and_our_operators():
    """Whatever a user types, outside the string literals the MATCH string holds only operators we wrote."""
    rng = random.Random(7)
    alphabet = 'ab "-:*^()+{}OR NEAR AND NOT subject:from:x@y.z\\\x00é'
    compiled = 0
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        try:
            match = parse(text).match()
        except BadQuery:
            continue
        compiled += 1
        if match is not None:
            assert _OUR_SYNTAX.match(_LITERAL.sub("", match)), (text, match)
            assert "\x00" not in match
    assert compiled > 300


def test_query_dates_are_utc_midnights():
    """after: starts at 00:00 UTC of its day, before: at 00:00 UTC of its (excluded) day."""
    query = parse("after:2024-03-01 before:2024-03-02")
    assert query.after_time() == 1709251200.0
    assert query.before_time() == query.after_time() + 86400
    assert Query().after_time() is None and Query().before_time() is None


@pytest.mark.parametrize("text", [
    "Re: hello", "https://example.org/x?a=1", "Fwd: Re: parole hearing", "-Re: hello", "Subject: parole",
    "Note:see attachment", 'RE:"school records"', "from: Ann Lee",
])
def test_the_quoted_form_a_message_suggests_is_a_query_that_works(text):
    """The "use ... in quotes" advice is itself a valid query: pasting it as told finds the words."""
    with pytest.raises(BadQuery) as raised:
        parse(text)
    suggested = re.search(r'use (-?"[^"]*") in quotes', str(raised.value)).group(1)
    query = parse(suggested if not suggested.startswith("-") else "records " + suggested)
    assert query.match()
