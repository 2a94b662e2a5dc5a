"""Show the archive to a person: one post (headers, safe readable text, attachments), a thread tree, a search.

Posts come from strangers, so what is shown is built to be safe on a terminal
and in JSON: header values are decoded to one line; the text is the post's
text/plain parts, or when it has none its HTML parts made safe and turned into
text (safe_text); attachments are listed by name, type and size, never shown.

Who may see confidential posts is decided by listserv.archive.access (an
entitled member named by --as, or a moderator), which also audits each
confidential post shown; without a reader they are left out.
"""

from __future__ import annotations

import dataclasses
import re
from email.message import Message
from html.parser import HTMLParser

import bleach

from listserv import lists, message
from listserv.archive import access
from listserv.auth import result as auth_result
from listserv.archive.query import parse
from listserv.archive.tree import tree
from listserv.errors import NoSuchThread
from listserv.store import Store, messages, search_index
from listserv.store import threads as store_threads

SHOWN_HEADERS = ("From", "To", "Cc", "Date", "Subject", "Message-ID")
MAX_PARTS = 500  # MIME parts looked at in one post: the nesting is the sender's choice
# HTML: what survives (structure and links); everything else is stripped, attributes included.
ALLOWED_TAGS = {"a", "b", "strong", "i", "em", "u", "p", "br", "div", "span", "blockquote", "pre", "code", "ul",
                "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "td", "th", "hr"}
# Elements whose content is never text for the reader: bleach keeps them (attributes stripped) so that the
# text conversion can drop them whole instead of printing a script's source.
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "title", "svg",
                        "math", "textarea", "select", "head", "frameset", "noembed", "noframes", "applet"}
LINK_PROTOCOLS = {"http", "https", "mailto"}  # javascript:, data:, file: ... links lose their target
_SPACE = re.compile(r"\s+")
_BLOCKS = {"p", "div", "blockquote", "pre", "ul", "ol", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}
_CLEANER = bleach.Cleaner(
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
    converter.feed(_CLEANER.clean(markup))
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
    """(text of the post, attachments as {name, type, size}) walking the MIME tree without recursion."""
    plain, html, attachments = [], [], []
    pending, looked = [msg], 0
    while pending and looked < MAX_PARTS:
        part, looked = pending.pop(), looked + 1
        kind = part.get_content_type()
        if part.is_multipart() and kind != "message/rfc822":
            children = part.get_payload()
            pending.extend(reversed(children if isinstance(children, list) else []))
        elif kind == "message/rfc822" or _is_attachment(part) or not kind.startswith("text/"):
            attachments.append(_attachment(part, kind))
        elif kind == "text/html":
            html.append(safe_text(message.part_text(part)))
        else:
            plain.append(message.part_text(part))
    text = "\n\n".join(t.strip() for t in (plain or html) if t.strip())
    return text, attachments


def _is_attachment(part: Message) -> bool:
    try:
        return part.get_content_disposition() == "attachment" or bool(part.get_filename())
    except Exception:  # hostile parameters break the header parser: not something to show as text
        return True


def _attachment(part: Message, kind: str) -> dict:
    """Name (one line), content type and decoded size of an attachment; a broken one is still listed."""
    try:
        name = " ".join(str(part.get_filename() or "").split())[:255]
    except Exception:  # a hostile filename parameter
        name = ""
    try:
        payload = part.as_bytes() if kind == "message/rfc822" else part.get_payload(decode=True) or b""
        size = len(payload)
    except Exception:  # an enclosed message that cannot be serialised: its size is unknown
        size = 0
    return {"name": name or f"(unnamed {kind})", "type": kind, "size": size}


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


async def thread(
    store: Store, thread_id: int, as_address: str | None = None, moderator: str | None = None, by: str = "",
    list_address: str | None = None,
) -> dict:
    """A thread to show: id, list, subject, posts, hidden (confidential posts left out), started, last, tree.

    tree: one row per post, parents first, with its depth. The reader is
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
    return {
        "id": found["id"], "list": mlist.address, "subject": laid_out[0]["subject"], "posts": len(laid_out),
        "hidden": len(rows) - len(visible), "started": min(row["date"] for row in visible),
        "last": max(row["date"] for row in visible), "tree": laid_out,
    }


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
