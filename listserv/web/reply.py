"""The "reply" link of a post on the web pages: a mailto: URI (RFC 6068) that answers into the same thread.

The reply goes to the list with `In-Reply-To` naming the post, so the
threader files it under the post. A confidential post's link goes to the
address its list copies carry in Reply-To (listserv.confidential.copy), so the
reply is marked confidential even if the mail program drops In-Reply-To.
Every header value is percent-encoded as UTF-8, spaces as %20 (a '+' would
stay a '+' in a mail program).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from listserv.confidential.copy import reply_address

_ALREADY_REPLY = re.compile(r"^\s*re\s*:", re.I)
_ADDRESS_KEPT = "@+!$'()*,;:"  # RFC 6068: characters of an addr-spec that may stay as they are


def reply_subject(subject: str) -> str:
    """The subject of a reply: "Re: " once, on one line.

    >>> reply_subject("Memo help"), reply_subject("RE: Memo help"), reply_subject("a\\r\\nb")
    ('Re: Memo help', 'RE: Memo help', 'Re: a b')
    """
    line = " ".join(subject.split())
    return line if _ALREADY_REPLY.match(line) else f"Re: {line}".strip()


def mailto(list_address: str, post: dict) -> str:
    """The reply link of a post (subject, message_id, confidential) of the list list_address.

    >>> mailto("team@example.org", {"subject": "Müller & co?", "message_id": "a1@x.org", "confidential": False})
    'mailto:team@example.org?subject=Re%3A%20M%C3%BCller%20%26%20co%3F&In-Reply-To=%3Ca1%40x.org%3E'
    >>> mailto("team@example.org", {"subject": "Case", "message_id": "c1@x.org", "confidential": True})
    'mailto:team+confidential@example.org?subject=Re%3A%20Case&In-Reply-To=%3Cc1%40x.org%3E'
    """
    to = reply_address(list_address) if post["confidential"] else list_address
    fields = (("subject", reply_subject(post["subject"] or "")), ("In-Reply-To", f"<{post['message_id']}>"))
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in fields)
    return f"mailto:{quote(to, safe=_ADDRESS_KEPT)}?{query}"
