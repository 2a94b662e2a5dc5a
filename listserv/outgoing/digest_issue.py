"""Build a digest issue: one multipart/digest message (RFC 2046 5.1.5) of the posts queued for it.

A text/plain table of contents comes first (labelled, since a digest's parts
default to message/rfc822), then every queued post as message/rfc822 in
arrival order, each exactly as it was queued. listserv.digests decides when an
issue goes and queues it; confidential.py rebuilds a queued issue without the
posts that turned confidential (posts_without, then build).
"""

from __future__ import annotations

import email.utils
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser

from listserv import message
from listserv.addresses import sub_address
from listserv.lists import MailingList
from listserv.outgoing import notices
from listserv.wording import plural
from listserv.pipeline.decorate import list_headers


def table_of_contents(mlist: MailingList, volume: int, issue: int, posts: list[dict]) -> str:
    """The first part of an issue: where to post, how to change delivery, and the numbered topics."""
    request, owner = sub_address(mlist.address, "request"), sub_address(mlist.address, "owner")
    lines = [
        f"{title(mlist, volume, issue)}",
        "",
        f"Send posts for the list to {mlist.address}.",
        f"To get single posts instead of digests, or to leave the list, write to {request}",
        f'with "help" as the subject, or ask the list owners at {owner}.',
        "",
        "When replying, please edit your Subject line so it says what you are answering,",
        f'not "Re: {title(mlist, volume, issue)}", and quote only what you answer.',
        "",
        f"Today's Topics ({plural(len(posts), 'message')}):",
        "",
    ]
    for number, post in enumerate(posts, start=1):
        who = post["sender_name"] or post["sender"] or "unknown sender"
        lines.append(f"  {number:>3}. {post['subject'] or '(no subject)'} ({who})")
    return "\n".join(lines) + "\n"


def title(mlist: MailingList, volume: int, issue: int) -> str:
    return f"{mlist.name} Digest, Vol {volume}, Issue {issue}"


def build(mlist: MailingList, volume: int, issue: int, posts: list[dict]) -> bytes:
    """The issue as bytes: our headers, then a multipart/digest built by hand around the posts' bytes.

    By hand, as notices.owner_forward does: a post the email package could not
    re-serialise still goes in exactly as queued.
    """
    contents = [post["content"] for post in posts]
    boundary = notices.boundary(contents, "=_listserv_digest_")
    toc = table_of_contents(mlist, volume, issue, posts).encode("utf-8")
    eight_bit = not all(part.isascii() for part in (toc, *contents))
    mime = f'MIME-Version: 1.0\nContent-Type: multipart/digest; boundary="{boundary}"\n'
    mime += "Content-Transfer-Encoding: 8bit\n" if eight_bit else ""
    out = [_head(mlist, volume, issue), mime.encode("ascii"), b"\nThis is a MIME digest.\n"]
    out.append(f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n".encode("ascii"))
    out += [_encoding(toc), b"Content-Description: Table of contents\n\n", toc]
    for content in contents:
        body = content if content.endswith(b"\n") else content + b"\n"
        out += [f"--{boundary}\nContent-Type: message/rfc822\n".encode("ascii"), _encoding(content), b"\n", body]
    out.append(f"--{boundary}--\n".encode("ascii"))
    return b"".join(out)


def posts_without(content: bytes, message_ids: set[str]) -> tuple[list[dict], list[str]]:
    """A queued issue's posts (as build() takes them) less those whose Message-ID is among these (they turned
    confidential after it was built), and the Message-IDs taken out.

    Read from the bytes build() wrote: its boundary, then each post's bytes
    exactly as queued, so an issue rebuilt from the kept posts sends them unchanged.
    """
    posts = _posts_of(content)
    kept = [post for post in posts if post["message_id"] not in message_ids]
    return kept, [post["message_id"] for post in posts if post["message_id"] in message_ids]


def _posts_of(content: bytes) -> list[dict]:
    """The posts of an issue built by build(), as build() takes them (content, sender, sender_name, subject)."""
    boundary = BytesHeaderParser(policy=policy.default).parsebytes(content).get_boundary()
    if not boundary:
        return []
    posts = []
    for piece in content.split(b"\n--" + boundary.encode("ascii"))[2:]:  # [0]: headers and preamble, [1]: contents
        if piece.startswith(b"--"):
            break
        body = piece.partition(b"\n\n")[2] + b"\n"
        head = BytesHeaderParser(policy=policy.default).parsebytes(body)
        name, address = email.utils.parseaddr(message.header(head, "From"))
        posts.append({"content": body, "message_id": message.message_id(head), "sender": address,
                      "sender_name": name, "subject": message.header(head, "Subject")})
    return posts


def _encoding(part: bytes) -> bytes:
    return b"" if part.isascii() else b"Content-Transfer-Encoding: 8bit\n"


def _head(mlist: MailingList, volume: int, issue: int) -> bytes:
    """The issue's header block, From the -request address and Reply-To the list (as Mailman's)."""
    head = EmailMessage(policy=policy.default)
    head["From"] = email.utils.formataddr((f"{mlist.address} digest", sub_address(mlist.address, "request")))
    head["To"] = mlist.address
    head["Reply-To"] = mlist.address
    head["Subject"] = title(mlist, volume, issue)
    head["Date"] = email.utils.formatdate(usegmt=True)
    head["Message-ID"] = email.utils.make_msgid(domain=mlist.domain)
    for name, value in list_headers(mlist):
        head[name] = value
    return head.as_bytes().rstrip(b"\n") + b"\n"
