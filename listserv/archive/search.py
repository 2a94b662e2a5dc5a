"""Archive search: what a post contributes to the index, and ranked search over it for a list.

What is indexed, and why: the FTS index holds a post's subject, sender name and
address, and its *own* words (messages.search_text), not its whole body. Quoted
reply lines ("> ..."), the "On ... wrote:" line that introduces them, an Outlook
"-----Original Message-----" tail and the signature after "-- " are left out:
quoted text makes every reply in a thread match the words of the post it quotes,
so a search for what Ann asked finds ten replies repeating her question and
drowns her original post; signatures make every post by a sender match their
job title and phone number. The full text is read from the raw message for display.
The archive rows get these fields from index_fields(), which the pipeline and
the importer call when they archive a post.

Ranking and speed are planned in listserv.store.search_index (bm25, subject
weighted above the body, ties broken by recency). Snippets mark matches with
**double asterisks**, the plain-text emphasis that reads well in a terminal, an
email reply and JSON alike, and cannot be mistaken for list tags like [team].
"""

from __future__ import annotations

import re
from email import policy
from email.message import Message
from email.parser import BytesParser

import aiosqlite

from listserv import message
from listserv.archive.query import Query, parse
from listserv.errors import BadQuery
from listserv.store import Store, search_index

ORDERS = ("rank", "date")
MAX_LIMIT = 1000  # results per search: a page, not a dump of the archive
OPENING = 160  # characters of a post shown when a query has no words to mark
# "On <date>, <name> wrote:", "Am <date> schrieb <name>:", "Le <date>, <name> a écrit :" ...
_ATTRIBUTION = re.compile(r"\b(wrote|writes|schrieb|a écrit|escribió|scrisse|skrev|schreef)\b.*:\s*$", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(r"^\s*-{2,}\s*original message\s*-{2,}\s*$", re.IGNORECASE)
# Outlook's quote header; "Sent:" (not "Date:") so that a forwarded message, which is the content, stays.
_OUTLOOK_HEADER = re.compile(r"^\s*From:\s.*\S")
_OUTLOOK_NEXT = re.compile(r"^\s*Sent:\s", re.IGNORECASE)
_NAME_SPACE = re.compile(r"\s+")
_COMPAT32 = BytesParser(policy=policy.compat32)
_SIGNATURES = {"application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature"}


def searchable_text(body_text: str) -> str:
    """A post's own words: body_text without quoted lines, their attribution, an Outlook-quoted tail or the signature.

    >>> searchable_text("Thanks, that helps.\\n\\nOn Mon, 2 Jan 2023, Ann <a@x.org> wrote:\\n> the school records\\n>\\n> -- \\n> Ann")
    'Thanks, that helps.'
    >>> searchable_text("Ann Lee wrote:\\n> old question\\nMy answer: ask the clerk.\\n-- \\nBob, Federal Defender\\n555-0100")
    'My answer: ask the clerk.'
    >>> searchable_text("Top-posted reply.\\n\\n-----Original Message-----\\nFrom: Ann\\nSent: Monday\\nold text")
    'Top-posted reply.'
    >>> searchable_text("A price of --5 and >= 3 years stays.")
    'A price of --5 and >= 3 years stays.'
    """
    kept: list[str] = []
    lines = body_text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines):
        if line == "-- " or _ORIGINAL_MESSAGE.match(line) or _outlook_quote(lines, number):
            break  # a signature or a quoted original: nothing after it is the sender's own text
        if line.lstrip().startswith(">") and not line.lstrip().startswith(">="):
            _drop_attribution(kept)
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def _outlook_quote(lines: list[str], number: int) -> bool:
    """True at the 'From: ... / Sent: ...' block Outlook puts above the unquoted original."""
    following = lines[number + 1] if number + 1 < len(lines) else ""
    return bool(_OUTLOOK_HEADER.match(lines[number]) and _OUTLOOK_NEXT.match(following))


def _drop_attribution(kept: list[str]) -> None:
    """Before a quoted block: drop blank lines and an 'On <date>, <name> wrote:' line (maybe wrapped in two)."""
    while kept and not kept[-1].strip():
        kept.pop()
    if kept and _ATTRIBUTION.search(kept[-1]) and len(kept[-1]) < 300:
        last = kept.pop()
        if kept and not last.lstrip().startswith("On ") and kept[-1].lstrip().startswith("On "):
            kept.pop()  # the attribution was wrapped: "On Mon, 2 Jan 2023 at 10:00, Ann Lee <" / "ann@x> wrote:"


def attachment_names(msg: Message) -> list[str]:
    """File names of a message's attachments, in order; '(unnamed TYPE)' for one without a name.

    An attachment is a part with Content-Disposition: attachment or with a file
    name, and any enclosed message (message/rfc822: a forward, a digest entry),
    named by its subject; its own parts are not walked. Cryptographic signature
    parts are not attachments. Never raises: a broken part is listed unnamed.

    >>> from email.message import EmailMessage
    >>> msg = EmailMessage()
    >>> msg.set_content("see attached")
    >>> msg.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="psych eval.pdf")
    >>> msg.add_attachment(b"x", maintype="application", subtype="octet-stream")
    >>> attachment_names(msg)
    ['psych eval.pdf', '(unnamed application/octet-stream)']
    """
    names, pending = [], [msg]
    while pending:  # an explicit stack: the nesting depth is chosen by the sender
        part = pending.pop()
        kind = part.get_content_type()
        if kind != "message/rfc822" and part.is_multipart():
            children = part.get_payload()
            pending.extend(reversed(children if isinstance(children, list) else []))
        elif kind not in _SIGNATURES:
            name = _enclosed_name(part) if kind == "message/rfc822" else _attachment_name(part)
            names.extend([name] if name else [])
    return names


def _attachment_name(part: Message) -> str | None:
    try:
        filename = part.get_filename()
        disposition = part.get_content_disposition()
    except Exception:  # hostile parameters can break the header parser: still an attachment
        filename, disposition = None, "attachment"
    if filename:
        return _clean_name(str(filename)) or f"(unnamed {part.get_content_type()})"
    return f"(unnamed {part.get_content_type()})" if disposition == "attachment" else None


def _enclosed_name(part: Message) -> str:
    """An enclosed message: its file name, else its subject, else '(unnamed message/rfc822)'."""
    try:
        enclosed = part.get_payload()
        subject = enclosed[0].get("Subject", "") if isinstance(enclosed, list) and enclosed else ""
        name = _clean_name(str(part.get_filename() or "")) or _clean_name(str(subject))
    except Exception:  # a broken enclosed header: list it without a name
        name = ""
    return f"{name}.eml" if name and not name.endswith(".eml") else name or "(unnamed message/rfc822)"


def _clean_name(name: str) -> str:
    """One line, at most 255 characters: names are stored newline-separated."""
    return _NAME_SPACE.sub(" ", name).strip()[:255]


def text_of(raw: bytes) -> str:
    """The search text of a raw message, read as the import reads it (compat32, listserv.message.body_text).

    >>> text_of(b"Subject: s\\r\\n\\r\\nMy answer.\\r\\n> your question\\r\\n")
    'My answer.'
    """
    return searchable_text(message.body_text(_COMPAT32.parsebytes(raw)))


def index_fields(msg: Message | None, body_text: str) -> dict:
    """The search columns of an archive row, to merge into the dict given to store.messages.add.

    >>> index_fields(None, "New question.\\n> quoted")
    {'search_text': 'New question.', 'attachments': ''}
    """
    names = attachment_names(msg) if msg is not None else []
    return {"search_text": searchable_text(body_text), "attachments": "\n".join(names)}


async def search(
    db: aiosqlite.Connection,
    list_id: int,
    query: Query | str,
    limit: int = 20,
    order: str = "rank",
    include_confidential: bool = False,
) -> list[dict]:
    """Posts of a list matching query, best first (order='rank') or newest first (order='date').

    Confidential posts are left out unless include_confidential (the caller
    decides who may see them). Raises BadQuery for a malformed query or
    argument. Each result: id, message_id, thread_id, date (unix time), sender,
    sender_name, subject, snippet (one line, matches marked **like this**).
    """
    parsed = query if isinstance(query, Query) else parse(query)
    if parsed.matches_everything():
        raise BadQuery("a query needs a word or a filter: it would match every post")
    if order not in ORDERS:
        raise BadQuery(f"order must be 'rank' or 'date', not {order!r}")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadQuery(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    match = parsed.match()
    filters = search_index.Filters(
        list_id=list_id, include_confidential=include_confidential, senders=parsed.senders,
        after=parsed.after_time(), before=parsed.before_time(), thread_id=parsed.thread_id,
        has_attachment=parsed.has_attachment, exclude=None if match else parsed.exclusion_match(),
    )
    rows = await search_index.search(db, match, filters, limit, order)
    for row in rows:
        row["snippet"] = _one_line(row["snippet"] or "", opening=match is None)
    return rows


def _one_line(snippet: str, opening: bool) -> str:
    """A snippet on one line; the opening of a post (no words to mark) is cut at a word.

    >>> _one_line("a\\n b  c", False)
    'a b c'
    >>> out = _one_line("word " * 40, True); len(out) <= OPENING + 2, out[-6:]
    (True, 'word …')
    """
    text = " ".join(snippet.split())
    if opening and len(text) > OPENING:
        text = text[:OPENING].rsplit(" ", 1)[0] + " …"
    return text


async def reindex(store: Store, batch: int = 500) -> int:
    """Recompute every post's search_text from its raw message, then rebuild the index; returns how many changed.

    `archive reindex` runs this after searchable_text() changes, and after the
    0002 migration, which could only copy the whole body into search_text. A
    post without its raw message (purged) keeps what it has.
    """
    changed, last = 0, 0
    while rows := await search_index.search_texts(store.db, last, batch):
        updates = [(row["id"], _recomputed(row)) for row in rows]
        updates = [(i, text) for (i, text), row in zip(updates, rows) if text != row["search_text"]]
        if updates:
            await store.write(_set_search_texts, updates)
        changed, last = changed + len(updates), rows[-1]["id"]
    await store.write(search_index.rebuild)
    await store.write(search_index.optimize)
    return changed


def _recomputed(row: dict) -> str:
    """A row's search text read again from its raw message; what it has when there is none, or when the message
    cannot be parsed (MIME nested past the parser's recursion limit, as listserv.archive.show allows for)."""
    if row["raw"] is None:
        return row["search_text"]
    try:
        return text_of(row["raw"])
    except Exception:
        return row["search_text"]


async def _set_search_texts(db: aiosqlite.Connection, updates: list[tuple[int, str]]) -> None:
    for archive_id, text in updates:
        await search_index.set_fields(db, archive_id, search_text=text)
