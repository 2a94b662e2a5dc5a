"""A post's attachment served for download, so that nothing a stranger attached can run in the browser.

The sender chooses the part's type and file name. So the answer is always a
download (Content-Disposition: attachment), never a page: only plain image
types keep their type, anything else (HTML, SVG, XML, scripts, PDF ...) is
application/octet-stream; the file name loses any path, control and
direction-changing characters; a CSP sandbox and nosniff (app.SECURITY_HEADERS)
stop what a browser opened anyway. The same members-only and confidential
rules as the post's page apply (listserv.archive.show.attachment).
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from listserv.archive import show
from listserv.web.archive import members_only, number
from listserv.web.session import Visitor

SERVED_AS_THEMSELVES = frozenset({"image/png", "image/jpeg", "image/gif"})  # decoded by the browser, never run
OPAQUE = "application/octet-stream"
MAX_NAME = 150  # characters of a file name kept (the extension survives the cut)
_UNSAFE_CHARS = re.compile(r'[<>:"/\\|?*]')  # not allowed in a file name on some system
_NOT_CHARACTERS = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")  # controls, bidi overrides, lone surrogates ...
DOWNLOAD_CSP = "sandbox; default-src 'none'"  # if a browser shows it after all: no script, no requests


def served_type(declared: str) -> str:
    """The Content-Type an attachment is served with.

    >>> served_type("image/png"), served_type("image/svg+xml"), served_type("text/html")
    ('image/png', 'application/octet-stream', 'application/octet-stream')
    """
    return declared if declared in SERVED_AS_THEMSELVES else OPAQUE


def safe_name(name: str, number: int, declared: str) -> str:
    """A file name to save an attachment under: its last path part, without characters that could mislead or
    break a header; 'attachment-N.EXT' when nothing is left.

    >>> safe_name("../../etc/passwd", 1, "text/plain")
    'passwd'
    >>> safe_name("C:\\\\evil\\\\run.bat", 1, "application/x-bat")
    'run.bat'
    >>> safe_name("report\\r\\nSet-Cookie: x.pdf", 2, "application/pdf")
    'report Set-Cookie_ x.pdf'
    >>> safe_name("invoice\\u202efdp.exe", 1, "application/pdf")
    'invoicefdp.exe'
    >>> safe_name("..", 3, "application/pdf"), safe_name("", 4, "message/rfc822")
    ('attachment-3.pdf', 'attachment-4.eml')
    """
    last = re.split(r"[/\\]", name)[-1]
    kept = "".join(" " if char in "\r\n\t" else char for char in last
                   if char in "\r\n\t" or unicodedata.category(char) not in _NOT_CHARACTERS)
    kept = " ".join(_UNSAFE_CHARS.sub("_", kept).split()).strip(". ")
    if len(kept) > MAX_NAME:
        stem, dot, extension = kept.rpartition(".")
        kept = (stem[: MAX_NAME - len(extension) - 1] + dot + extension) if dot and len(extension) < 10 else kept[:MAX_NAME]
    return kept or f"attachment-{number}{mimetypes.guess_extension(declared) or '.bin'}"


def name_of(attachment: dict) -> str:
    """The name a listed attachment (show.post's attachments) is saved under, shown on the post's page as such."""
    return safe_name(attachment["filename"], attachment["number"], attachment["type"])


def disposition(name: str) -> str:
    """Content-Disposition for a download named `name` (already safe_name'd): an ASCII fallback and the UTF-8
    name (RFC 6266, RFC 8187).

    >>> disposition("Müller eval.pdf")
    'attachment; filename="Muller eval.pdf"; filename*=UTF-8\\'\\'M%C3%BCller%20eval.pdf'
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"[^A-Za-z0-9 ._()+-]", "_", ascii_name).strip() or "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def size_label(size: int) -> str:
    """An attachment's size for people.

    >>> size_label(512), size_label(1536), size_label(3 * 1024 * 1024)
    ('512 bytes', '1.5 KB', '3.0 MB')
    """
    if size < 1024:
        return f"{size} bytes"
    return f"{size / 1024:.1f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


@members_only
async def part(request: Request, who: Visitor, list_address: str) -> Response:
    """One attachment of a post, as a download; 404 exactly like a missing page for anything not to be seen."""
    wanted = number(request.path_params["n"])
    found = await show.attachment(request.app.state.store, number(request.path_params["id"]), wanted,
                                  as_address=who.address, list_address=list_address)
    headers = {
        "content-disposition": disposition(safe_name(found["name"], wanted, found["type"])),
        "content-security-policy": DOWNLOAD_CSP,
    }
    return Response(found["data"], media_type=served_type(found["type"]), headers=headers)


ROUTES = [Route("/lists/{list}/messages/{id}/parts/{n}", part, methods=["GET"])]
