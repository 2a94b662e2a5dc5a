"""Parse an archive search query into a typed Query that compiles to a safe FTS5 MATCH string and filter values.

The language, as members type it (README and the email help should say the same):

    words            every word must match (stemmed, case and accents folded)
    "exact phrase"   the words next to each other, in this order
    -word -"phrase"  leave out posts that contain it
    a OR b           either; OR binds tighter than the implied AND: a b OR c d = a (b OR c) d
    from:NAME        display name or address contains NAME (from:"Ann Lee" for a full name)
    from:ADDRESS     exactly that sender; from:@example.org for a whole domain
    subject:WORD     in the subject (subject:"two words" for a phrase)
    after:YYYY-MM-DD on or after that day; before:YYYY-MM-DD strictly before it (UTC)
    thread:ID        in that thread
    has:attachment   posts that carry an attachment

Safety: no character a user types is ever FTS5 syntax. Every word reaches MATCH
as an FTS5 string literal "..." with embedded quotes doubled; the only operators
in the MATCH string (AND, OR, NOT, column filters, parentheses) are written by
this module. Characters that are search syntax elsewhere and mean nothing here
(* ^ ( ) { } and a bare AND, NOT or NEAR) are refused with a message rather than
silently dropped, so nobody believes a wildcard worked; inside quotes they are
plain text. Other punctuation separates words, as the FTS5 tokenizer does.
The parser is a single loop over tokens (no recursion on user input) and every
fault is a BadQuery with a one-line message.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from listserv.errors import BadQuery

MAX_LENGTH = 1000  # characters: a query longer than this is not something a person typed
MAX_TERMS = 32  # tokens: bounds the work one query can ask of the index
OPERATORS = ("from", "subject", "after", "before", "thread", "has")
SYNTAX_CHARACTERS = "*^(){}"  # FTS5/other search syntax with no meaning here
RESERVED_WORDS = {
    "AND": "AND is not needed: all words must match already",
    "NOT": "use -word to leave out posts with a word; NOT is not an operator here",
    "NEAR": 'NEAR is not supported; use a "quoted phrase" to find words together',
}
_OPERATOR = re.compile(r"([A-Za-z]+):")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_THREAD = re.compile(r"[0-9]{1,18}")
# FTS5 column filters for Text.column; the column names are those of messages_fts.
_COLUMN_FILTERS = {"": "", "subject": "subject : ", "from": "{sender_name sender} : ", "sender": "sender : "}
_OPERATOR_LIST = ", ".join(f"{name}:" for name in OPERATORS)


@dataclass(frozen=True)
class Token:
    """One whitespace-separated piece of a query, as typed."""

    position: int  # 1-based character position where it starts, for messages
    negated: bool  # it began with '-'
    operator: str  # lower-case operator name before ':', '' for a plain word or phrase
    text: str  # the word, the phrase without its quotes, or the operator's value
    quoted: bool  # text was written inside "..."
    end: int = 0  # 0-based index just past the token, so a message can quote it as typed


@dataclass(frozen=True)
class Text:
    """A word or phrase the FTS index must find, optionally in one column only."""

    text: str  # as typed; the FTS5 tokenizer splits it into words, several words form a phrase
    column: str = ""  # "" any column, "subject", "from" (name or address) or "sender" (address)

    def fts(self) -> str:
        """This term as FTS5 syntax: an optional column filter and one string literal.

        >>> Text('say "hi" now', "subject").fts()
        'subject : "say ""hi"" now"'
        """
        return _COLUMN_FILTERS[self.column] + '"' + self.text.replace('"', '""') + '"'


@dataclass(frozen=True)
class Query:
    """A parsed query: FTS terms (compiled by match()) plus filters on the archive row."""

    must: tuple[tuple[Text, ...], ...] = ()  # every group must match; a group of several is an OR
    exclude: tuple[Text, ...] = ()  # no post containing any of these
    senders: tuple[str, ...] = ()  # LIKE patterns (backslash escapes) on messages.sender, all must hold
    after: date | None = None  # on or after this day (UTC)
    before: date | None = None  # strictly before this day (UTC)
    thread_id: int | None = None  # only this thread
    has_attachment: bool = False  # only posts with attachments

    def match(self) -> str | None:
        """The FTS5 MATCH expression for the positive terms minus the exclusions; None without terms.

        >>> parse('cafe "school records" -juvenile').match()
        '("cafe" AND "school records") NOT ("juvenile")'
        >>> parse("trauma OR abuse subject:expert").match()
        '("trauma" OR "abuse") AND subject : "expert"'
        """
        if not self.must:
            return None
        positive = " AND ".join(_group(terms) for terms in self.must)
        if not self.exclude:
            return positive
        return f"({positive}) NOT ({self.exclusion_match()})"

    def matches_everything(self) -> bool:
        """True when nothing narrows the query (no term, no filter): it would list the whole archive."""
        filters = self.senders or self.after or self.before or self.thread_id or self.has_attachment
        return not self.must and not filters

    def exclusion_match(self) -> str | None:
        """FTS5 expression matching any excluded term, for queries that only filter rows."""
        return " OR ".join(term.fts() for term in self.exclude) or None

    def after_time(self) -> float | None:
        """Unix time of the start of the after: day."""
        return _midnight(self.after)

    def before_time(self) -> float | None:
        """Unix time of the start of the before: day (excluded)."""
        return _midnight(self.before)


def _group(terms: tuple[Text, ...]) -> str:
    if len(terms) == 1:
        return terms[0].fts()
    return "(" + " OR ".join(term.fts() for term in terms) + ")"


def _midnight(day: date | None) -> float | None:
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def parse(query: str) -> Query:
    """Parse what a member typed; raises BadQuery with a one-line reason when it is malformed.

    >>> q = parse('from:"José Ruiz" subject:report after:2023-01-01 has:attachment')
    >>> q.match(), q.after, q.has_attachment
    ('{sender_name sender} : "José Ruiz" AND subject : "report"', datetime.date(2023, 1, 1), True)
    >>> parse("from:ann@example.org thread:7").senders
    ('ann@example.org',)
    >>> parse('"unclosed')
    Traceback (most recent call last):
    ...
    listserv.errors.BadQuery: unclosed quote: the " at position 1 has no closing "
    >>> parse("-juvenile")
    Traceback (most recent call last):
    ...
    listserv.errors.BadQuery: a query of only exclusions would match every post: add a word to search for
    """
    if len(query) > MAX_LENGTH:
        raise BadQuery(f"query too long: at most {MAX_LENGTH} characters")
    tokens = tokenize(query)
    if not tokens:
        raise BadQuery("empty query: give at least one word to search for")
    if len(tokens) > MAX_TERMS:
        raise BadQuery(f"query too long: at most {MAX_TERMS} words and operators")
    _refuse_text_taken_for_operator(_normalized(query), tokens)
    builder = _Builder()
    for token in tokens:
        builder.add(token)
    return builder.finish()


def tokenize(query: str) -> list[Token]:
    """Split a query into tokens: optional '-', optional 'name:', then a word or a "phrase".

    Control characters count as spaces, so none can reach the database.

    >>> [(t.negated, t.operator, t.text, t.quoted) for t in tokenize('-"a b" from:ann x"y"')]
    [(True, '', 'a b', True), (False, 'from', 'ann', False), (False, '', 'x', False), (False, '', 'y', True)]
    """
    text = _normalized(query)
    tokens, i = [], 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        start = i
        negated = text[i] == "-"
        i += negated
        operator, i = _operator_at(text, i)
        value, quoted, i = _value_at(text, i)
        tokens.append(Token(start + 1, negated, operator, value, quoted, i))
    return tokens


def _normalized(query: str) -> str:
    """The query with every space and control character a plain space (same length, same positions)."""
    return "".join(" " if _is_space(ch) else ch for ch in query)


def _refuse_text_taken_for_operator(text: str, tokens: list[Token]) -> None:
    """Refuse NAME: that is text rather than an operator, saying which quotes make it text.

    Members paste subjects ("Re: hello"), URLs and times; an unknown NAME:, or an
    operator followed by a space, is almost always that.

    >>> parse("Re: hello")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    listserv.errors.BadQuery: unknown operator 're:': use "Re: hello" in quotes to search for the words (operators: ...)
    """
    for index, token in enumerate(tokens):
        if not token.operator:
            continue
        spaced = not token.text and not token.quoted and index + 1 < len(tokens)
        if token.operator not in OPERATORS:
            raise BadQuery(f"unknown operator '{_shown(token.operator)}:': use {_quoted(text, tokens, index)}"
                           f" in quotes to search for the words (operators: {_OPERATOR_LIST})")
        if spaced and not token.negated:
            raise BadQuery(f"{token.operator}: needs {_NEEDS[token.operator]} right after it, with no space;"
                           f" or use {_quoted(text, tokens, index)} in quotes to search for the words")


def _quoted(text: str, tokens: list[Token], index: int) -> str:
    """The token at index as typed, with the tokens it runs into when its value is empty, as a "phrase".

    >>> _quoted('-Re: Re: "a b" c', tokenize('-Re: Re: "a b" c'), 0)
    '-"Re: Re: a b"'
    """
    first = last = tokens[index]
    position = index
    while not last.text and not last.quoted and position + 1 < len(tokens):
        position += 1
        last = tokens[position]
    phrase = " ".join(text[first.position - 1 + first.negated : last.end].replace('"', " ").split())
    return ("-" if first.negated else "") + f'"{phrase}"'


def _is_space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Cc"


def _operator_at(text: str, i: int) -> tuple[str, int]:
    found = _OPERATOR.match(text, i)
    return (found.group(1).lower(), found.end()) if found else ("", i)


def _value_at(text: str, i: int) -> tuple[str, bool, int]:
    """(value, quoted, next index) of the word or phrase starting at i."""
    if i < len(text) and text[i] == '"':
        end = text.find('"', i + 1)
        if end < 0:
            raise BadQuery(f'unclosed quote: the " at position {i + 1} has no closing "')
        return text[i + 1 : end], True, end + 1
    end = i
    while end < len(text) and text[end] not in ' "':
        end += 1
    return text[i:end], False, end


def _shown(text: str, limit: int = 40) -> str:
    """User text fit for a one-line message."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class _Builder:
    """Collects tokens into a Query; one method per kind of token, called in order."""

    must: list[list[Text]] = field(default_factory=list)
    exclude: list[Text] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)
    dates: dict[str, date] = field(default_factory=dict)
    thread_id: int | None = None
    has_attachment: bool = False
    or_pending: bool = False  # an OR was read and waits for its right-hand term
    after_term: bool = False  # the previous token was a term an OR may follow

    def add(self, token: Token) -> None:
        if not token.negated and not token.operator and not token.quoted and token.text == "OR":
            return self._or()
        joinable = not token.negated and token.operator in ("", "subject")
        if self.or_pending and not joinable:
            raise BadQuery("OR can only join words, phrases and subject: terms")
        if token.negated:
            self._exclude(token)
        elif token.operator:
            self._operator(token)
        else:
            self._term(_text(token, ""))

    def _or(self) -> None:
        if not self.after_term or self.or_pending:
            raise BadQuery("OR needs a word or phrase on each side")
        self.or_pending = True

    def _term(self, term: Text) -> None:
        if self.or_pending:
            self.must[-1].append(term)
        else:
            self.must.append([term])
        self.or_pending, self.after_term = False, True

    def _exclude(self, token: Token) -> None:
        if token.operator:
            raise BadQuery(f"'-' can only leave out a word or phrase, not {token.operator}:")
        if not token.text and not token.quoted:
            raise BadQuery("'-' must be followed by a word or phrase to leave out")
        self.exclude.append(_text(token, ""))
        self.after_term = False

    def _operator(self, token: Token) -> None:
        handler = {  # unknown operators were refused by _refuse_text_taken_for_operator
            "from": self._from, "subject": self._subject, "after": self._date, "before": self._date,
            "thread": self._thread, "has": self._has,
        }[token.operator]
        if not token.text.strip():
            raise BadQuery(f"{token.operator}: needs {_NEEDS[token.operator]} right after it")
        self.after_term = False
        handler(token)

    def _subject(self, token: Token) -> None:
        self._term(_text(token, "subject"))

    def _from(self, token: Token) -> None:
        value = token.text.strip()
        if "@" not in value:
            self.must.append([_text(token, "from")])
            return
        local, _, domain = value.partition("@")
        # The index narrows by the local part (or the domain), the LIKE pattern makes it exact.
        narrow = Token(token.position, False, "from", local or domain or value, token.quoted)
        self.must.append([_text(narrow, "sender")])
        self.senders.append(_sender_pattern(value))

    def _date(self, token: Token) -> None:
        value = token.text.strip()
        if token.operator in self.dates:
            raise BadQuery(f"{token.operator}: is given twice")
        self.dates[token.operator] = _day(token.operator, value)

    def _thread(self, token: Token) -> None:
        value = token.text.strip()
        if self.thread_id is not None:
            raise BadQuery("thread: is given twice")
        if not _THREAD.fullmatch(value) or int(value) == 0:
            raise BadQuery(f"thread: needs a thread number, not '{_shown(value)}'")
        self.thread_id = int(value)

    def _has(self, token: Token) -> None:
        value = token.text.strip()
        if value.lower() not in ("attachment", "attachments"):
            raise BadQuery(f"has: only knows 'attachment', not '{_shown(value)}'")
        self.has_attachment = True

    def finish(self) -> Query:
        if self.or_pending:
            raise BadQuery("OR needs a word or phrase on each side")
        after, before = self.dates.get("after"), self.dates.get("before")
        if after and before and after >= before:
            raise BadQuery(f"after:{after} is not earlier than before:{before}, so no post can match")
        query = Query(
            must=tuple(tuple(group) for group in self.must), exclude=tuple(self.exclude),
            senders=tuple(self.senders), after=after, before=before,
            thread_id=self.thread_id, has_attachment=self.has_attachment,
        )
        if query.matches_everything():
            raise BadQuery("a query of only exclusions would match every post: add a word to search for")
        return query


_NEEDS = {
    "from": "a name or address", "subject": "a word or phrase", "after": "a date (YYYY-MM-DD)",
    "before": "a date (YYYY-MM-DD)", "thread": "a thread number", "has": "'attachment'",
}


def _text(token: Token, column: str) -> Text:
    """A search term from a token, refusing syntax we do not support and text with nothing to find."""
    value = token.text
    if not token.quoted:
        _refuse_syntax(value)
    if not any(ch.isalnum() for ch in value):
        shown = f'"{_shown(value)}"' if token.quoted else f"'{_shown(value)}'"
        raise BadQuery(f"nothing to search for in {shown}: it has no letters or digits")
    return Text(value, column)


def _refuse_syntax(word: str) -> None:
    """Refuse a bare word that is search syntax elsewhere; quotes make it plain text.

    >>> _refuse_syntax("sentenc*")
    Traceback (most recent call last):
    ...
    listserv.errors.BadQuery: 'sentenc*' contains '*', which is not search syntax here: put it in "quotes" to search for it as text
    """
    if word in RESERVED_WORDS:
        raise BadQuery(RESERVED_WORDS[word] + " (put it in quotes to search for the word)")
    if word.upper().startswith("NEAR("):
        raise BadQuery(RESERVED_WORDS["NEAR"])
    for ch in word:
        if ch in SYNTAX_CHARACTERS:
            raise BadQuery(
                f"'{_shown(word)}' contains '{ch}', which is not search syntax here: "
                'put it in "quotes" to search for it as text'
            )


def _day(operator: str, value: str) -> date:
    try:
        if _DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise BadQuery(f"{operator}: needs a date as YYYY-MM-DD, not '{_shown(value)}'")


def _sender_pattern(value: str) -> str:
    """A LIKE pattern for from:ADDRESS: exact, '@domain' for a domain, 'local@' for a local part.

    >>> _sender_pattern("Ann_Lee@Example.org"), _sender_pattern("@example.org"), _sender_pattern("ann@")
    ('ann\\\\_lee@example.org', '%@example.org', 'ann@%')
    """
    escaped = re.sub(r"([\\%_])", r"\\\1", value.lower())
    if escaped.startswith("@"):
        escaped = "%" + escaped
    if escaped.endswith("@"):
        escaped += "%"
    return escaped
