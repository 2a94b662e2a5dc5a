"""Show the archive to a person: one post (headers, safe readable text, attachments), a thread tree, a search.

Posts come from strangers, so what is shown is built to be safe on a terminal
and in JSON: header values are decoded to one line; the text is the post's
text/plain parts, or when it has none its HTML parts made safe and turned into
text (safe_text); attachments are listed by name, type and size, never shown
inline (attachment() gives one's bytes, for a download).

Who may see confidential posts is decided by listserv.archive.access (an
entitled member named by --as, or a moderator), which also audits each
confidential post shown; without a reader they are left out.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import re
from email import policy
from email.message import Message
from email.parser import BytesParser
from html.parser import HTMLParser

from listserv import lists, message
from listserv.archive import access, parts
from listserv.auth import result as auth_result
from listserv.archive.query import parse
from listserv.archive.tree import tree
from listserv.errors import NoSuchPost, NoSuchThread
from listserv.store import Store, messages, search_index
from listserv.store import threads as store_threads

SHOWN_HEADERS = ("From", "To", "Cc", "Date", "Subject", "Message-ID")
# HTML: what survives (structure and links); everything else is stripped, attributes included.
ALLOWED_TAGS = {"a", "b", "strong", "i", "em", "u", "p", "br", "div", "span", "blockquote", "pre", "code", "ul",
                "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "td", "th", "hr"}
# Elements whose content is never text for the reader: bleach keeps them (attributes stripped) so that the
# text conversion can drop them whole instead of printing a script's source.
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "title", "svg",
                        "math", "textarea", "select", "head", "frameset", "noembed", "noframes", "applet"}
LINK_PROTOCOLS = {"http", "https", "mailto"}  # javascript:, data:, file: ... links lose their target
_FAST_PARSER = BytesParser(policy=policy.compat32)
_SPACE = re.compile(r"\s+")
_BLOCKS = {"p", "div", "blockquote", "pre", "ul", "ol", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}


@functools.cache
def _cleaner():
    """The allow-list cleaner, built on first use: only posts without a text part need it, and bleach with its
    html5lib costs every process that imports this module 10 MB resident (bench/README.md, memory)."""
    import bleach

    return bleach.Cleaner(
        tags=ALLOWED_TAGS | DROPPED_WITH_CONTENT, attributes={"a": ["href"]}, protocols=LINK_PROTOCOLS,
        strip=True, strip_comments=True,
    )


def safe_text(markup: str) -> str:
    """Readable text of untrusted HTML: bleach with a strict allow-list, then text; links as 'text <url>'.

    Scripts, styles, frames and their content, event attributes, images (remote
    or not) and javascript: links are gone; entities are resolved.

    >>> safe_text('<p onclick="x()">Hi <b>there</b></p><script>steal()</script><img src="http://t.example/p.gif">')
    'Hi there'
    >>> safe_text('<a href="javascript:alert(1)">click</a> or <a href="https://court.example/">the court</a>')
    'click or the court <https://court.example/>'
    >>> safe_text("<ul><li>one</li><li>two &amp; three</li></ul>")
    '- one\\n- two & three'
    """
    converter = _Text()
    converter.feed(_cleaner().clean(markup))
    converter.close()
    return converter.text()


class _Text(HTMLParser):
    """Sanitised HTML -> text: block elements break lines, dropped elements vanish with their content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropping = 0  # depth inside DROPPED_WITH_CONTENT elements
        self.links: list[str | None] = []  # href of each open <a>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self.dropping += 1
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCKS or tag in ("br", "td", "th"):
            self.parts.append("\n" if tag in ("br", "td", "th") else "\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROPPED_WITH_CONTENT:
            self.dropping = max(0, self.dropping - 1)
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href and not self.dropping:
                self.parts.append(f" <{href.removeprefix('mailto:')}>")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.parts.append(_SPACE.sub(" ", data))  # line breaks in HTML source are spaces

    def text(self) -> str:
        """The text collected so far: lines trimmed, at most one blank line in a row."""
        lines = [" ".join(line.split()) for line in "".join(self.parts).split("\n")]
        squeezed: list[str] = []
        for line in lines:
            if line or (squeezed and squeezed[-1]):
                squeezed.append(line)
        return "\n".join(squeezed).strip()


def readable(msg: Message) -> tuple[str, list[dict]]:
    """(text of the post, attachments as parts.described gives them) from one walk of its MIME tree (parts.walk)."""
    leaves = parts.walk(msg)
    plain = [_unix_lines(message.part_text(part)) for part in leaves.plain]
    html = [safe_text(message.part_text(part)) for part in leaves.html]
    text = "\n\n".join(t.strip() for t in (plain or html) if t.strip())
    return text, [parts.described(part, number) for number, part in enumerate(leaves.attachments, 1)]


async def post(
    store: Store, archive_id: int, as_address: str | None = None, moderator: str | None = None, by: str = "",
    list_address: str | None = None,
) -> dict:
    """One archived post to show: id, list, message_id, thread_id, date, sender, sender_name, subject,
    confidential, authentication (what DKIM/SPF/DMARC said when it arrived), content (False when purged or never
    stored), headers {name: value}, text, attachments.

    Who may see a confidential one, and the audit of that read, is
    listserv.archive.access.post: NoSuchPost, NotAllowed.
    """
    row = await access.post(store, archive_id, list_address, as_address=as_address, moderator=moderator, by=by)
    extra = await search_index.fields(store.db, archive_id)
    mlist = await lists.get_by_id(store, row["list_id"])
    keys = ("id", "message_id", "date", "sender", "sender_name", "subject", "confidential")
    shown = {**{key: row[key] for key in keys}, "list": mlist.address, "thread_id": extra["thread_id"],
             "authentication": auth_result.shown(row["auth"])}
    if row["raw"] is None:
        return {**shown, "content": False, "headers": {}, "text": "", "attachments": []}
    try:
        msg = message.parse(row["raw"])
        headers = {name: message.header(msg, name) for name in SHOWN_HEADERS if msg.get(name) is not None}
        text, attachments = readable(msg)
    except Exception:  # e.g. MIME nested past the parser's recursion limit: the text extracted when archived
        headers, text, attachments = {}, extra["search_text"], []
    return {**shown, "content": True, "headers": headers, "text": text, "attachments": attachments}


def _unix_lines(text: str) -> str:
    """Line ends as "\\n": a compat32 payload keeps the CRLF of the wire (policy.default's get_content does not).

    >>> _unix_lines("a\\r\\nb\\rc")
    'a\\nb\\nc'
    """
    return text.replace("\r\n", "\n").replace("\r", "\n")


async def attachment(
    store: Store, archive_id: int, number: int, as_address: str | None = None, moderator: str | None = None,
    by: str = "", list_address: str | None = None,
) -> dict:
    """The attachment numbered `number` (from 1, as post() lists them) of an archived post: name (the sender's
    file name, '' when none), type (as the sender declared it) and data (the decoded bytes).

    The same rules as post(): NoSuchPost, NotAllowed, and the read of a
    confidential post audited (detail "attachment as ..."). NoSuchPost too
    for a number the post does not have, or a post whose text is gone.
    """
    row = await access.post(store, archive_id, list_address, as_address=as_address, moderator=moderator, by=by,
                            how="attachment")
    try:
        found = parts.walk(message.parse(row["raw"])).attachments if row["raw"] is not None else []
    except Exception:  # MIME nested past the parser's limits: nothing to download
        found = []
    if not 1 <= number <= len(found):
        raise NoSuchPost(f"archived post {archive_id} has no attachment {number}")
    part = found[number - 1]
    return {"name": parts.filename(part), "type": part.get_content_type(), "data": parts.payload(part)}


async def thread(
    store: Store, thread_id: int, as_address: str | None = None, moderator: str | None = None, by: str = "",
    list_address: str | None = None, texts: int = 0,
) -> dict:
    """A thread to show: id, list, subject, posts, hidden (confidential posts left out), started, last, tree.

    tree: one row per post, parents first, with its depth; the first `texts`
    rows also carry content, text and attachments as post() gives them (the web
    thread page shows posts whole, up to a bound). The reader is
    decided as for a search (listserv.archive.access.reader) and each
    confidential post shown is audited. The subject is that of the first post
    shown (the stored subject of a confidential thread may be empty). A merged
    thread's old number shows the thread it went into. NoSuchThread when the
    number is unknown, of another list than list_address (when given), or
    nothing of the thread may be shown to this reader.
    """
    found = await store_threads.get(store.db, thread_id)
    if found is None:
        raise NoSuchThread(f"no thread {thread_id}")
    mlist = await lists.get_by_id(store, found["list_id"])
    if list_address and (await lists.get(store, list_address)).id != mlist.id:
        raise NoSuchThread(f"no thread {thread_id} in {list_address.strip().casefold()}")
    who = await access.reader(store, mlist, as_address, moderator, by)
    rows = await messages.in_thread(store.db, found["id"])
    visible = [row for row in rows if who.sees_confidential or not row["confidential"]]
    if not visible:
        raise NoSuchThread(f"no thread {thread_id}" + (" that you may see" if rows else ""))
    await access.record_reads(store, who, mlist.id, [row["id"] for row in visible if row["confidential"]], "thread")
    laid_out = [{"depth": depth, **_tree_row(row)} for depth, row in tree(visible)]
    shown_whole = laid_out[:texts]
    # All at once: aiosqlite runs them back to back on its thread instead of one loop round trip each.
    raws = await asyncio.gather(*(messages.raw(store.db, row["id"]) for row in shown_whole))
    for row, raw in zip(shown_whole, raws):
        row.update(_content(raw))
    return {
        "id": found["id"], "list": mlist.address, "subject": laid_out[0]["subject"], "posts": len(laid_out),
        "hidden": len(rows) - len(visible), "started": min(row["date"] for row in visible),
        "last": max(row["date"] for row in visible), "tree": laid_out,
    }


def _content(raw: bytes | None) -> dict:
    """content, text and attachments of one post of a thread page (raw None: its content is gone).

    Parsed with compat32 (listserv.archive.extract's fast path: ~0.1 ms a post
    instead of ~0.6 ms with policy.default; readable() reads both alike), so a
    thread of 30 posts stays a fast page.
    """
    if raw is None:
        return {"content": False, "text": "", "attachments": []}
    try:
        text, attachments = readable(_FAST_PARSER.parsebytes(raw))
    except Exception:  # MIME nested past the parser's limits: the post's own page says what it can
        text, attachments = "", []
    return {"content": True, "text": text, "attachments": attachments}


def _tree_row(row: dict) -> dict:
    keys = ("id", "message_id", "date", "sender", "sender_name", "subject", "confidential")
    return {key: bool(row[key]) if key == "confidential" else row[key] for key in keys}


async def find(
    store: Store, list_address: str, query: str, limit: int = 20, order: str = "rank",
    as_address: str | None = None, moderator: str | None = None, by: str = "",
) -> list[dict]:
    """Search a list's archive for a reader (listserv.archive.access.search: confidential posts only for an
    entitled member or a moderator, audited). thread:N of a thread merged since follows it to its new number."""
    await lists.get(store, list_address)
    parsed = parse(query)
    if parsed.thread_id is not None:
        live = await store_threads.get(store.db, parsed.thread_id)
        parsed = dataclasses.replace(parsed, thread_id=live["id"] if live else parsed.thread_id)
    return await access.search(
        store, list_address, parsed, limit=limit, order=order, as_address=as_address, moderator=moderator, by=by
    )
