"""Build the mail that email commands and subscriptions send: replies, confirmation requests, join/leave notices.

Every message comes From: NAME-request@DOMAIN, so answering it reaches the
command processor, carries Auto-Submitted: auto-replied (RFC 3834: vacation
robots stay quiet) and X-BeenThere: NAME-request@DOMAIN, and is queued with
NAME-bounces@DOMAIN as envelope sender (outgoing.queue), so a bounce comes back
to us and never to a person. None of them quotes a post.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage, MIMEPart

from listserv.addresses import sub_address
from listserv.lists import MailingList
from listserv.outgoing import notices
from listserv.outgoing.notices import when


def _head(mlist: MailingList, to: str, subject: str, in_reply_to: str = "") -> EmailMessage:
    note = notices.envelope(mlist, to, subject, "auto-replied", role="request")
    if in_reply_to:
        note["In-Reply-To"] = f"<{in_reply_to}>"
        note["References"] = f"<{in_reply_to}>"
    return note


def _plain(mlist: MailingList, to: str, subject: str, lines: list[str], in_reply_to: str = "") -> bytes:
    note = _head(mlist, to, subject, in_reply_to)
    note.set_content("\n".join(lines) + "\n")
    return note.as_bytes()


def reply(
    mlist: MailingList, to: str, text: str, in_reply_to: str = "", attached: list[tuple[str, bytes]] = ()
) -> bytes:
    """The one reply to a command message: the results as text, archived posts (get) attached as message/rfc822."""
    subject = f"The results of your commands to {sub_address(mlist.address, 'request')}"
    head = _head(mlist, to, subject, in_reply_to)
    if not attached:
        head.set_content(text)
        return head.as_bytes()
    return _with_attachments(head, text, attached)


def _with_attachments(head: EmailMessage, text: str, attached: list[tuple[str, bytes]]) -> bytes:
    """multipart/mixed built around the archived bytes, so each post is attached exactly as it was received."""
    originals = [(name, _unframed(raw)) for name, raw in attached]
    boundary = notices.boundary(raw for _, raw in originals)
    mark = f"--{boundary}\n".encode("ascii")
    intro = MIMEPart(policy=policy.default)
    intro.set_content(text)
    out = [head.as_bytes().rstrip(b"\n"), b"\n"]
    out.append(f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{boundary}"\n\n'.encode("ascii"))
    out += [mark, intro.as_bytes().rstrip(b"\n"), b"\n\n"]
    for name, raw in originals:
        out.append(mark)
        disposition = f'Content-Disposition: attachment; filename="{name}"\n'
        out.append(b"Content-Type: message/rfc822\n" + disposition.encode("ascii"))
        out += [b"Content-Transfer-Encoding: 8bit\n\n", raw, b"\n\n"]
    out.append(f"--{boundary}--\n".encode("ascii"))
    return b"".join(out)


def _unframed(raw: bytes) -> bytes:
    """A stored message without an mbox From_ line, with \\n line ends (the rest of the reply has them)."""
    if raw.startswith(b"From "):
        raw = raw.partition(b"\n")[2]
    return raw.replace(b"\r\n", b"\n").rstrip(b"\n")


def confirmation(mlist: MailingList, to: str, action: str, token: str, expires_at: float, moderated: bool) -> bytes:
    """Ask the address concerned to confirm a (un)subscription; Reply-To is the one-token confirm address."""
    confirm_at = sub_address(mlist.address, "confirm", token)
    request = sub_address(mlist.address, "request")
    what = {"subscribe": f"subscribe {to} to", "unsubscribe": f"unsubscribe {to} from"}[action]
    lines = [
        f"Someone, perhaps you, asked to {what} the mailing list {mlist.address}.",
        "",
        "To confirm, do one of these:",
        "  - reply to this message, keeping the subject;",
        f"  - send any message to {confirm_at}",
        f"  - send a message to {request} with this line: confirm {token}",
        "",
        f"This request expires on {when(expires_at)}.",
    ]
    if action == "subscribe" and moderated:
        lines.append("Once you confirm, a moderator of the list reviews the request, and you hear the outcome.")
    lines += ["", "If you did not ask for this, ignore this message: nothing changes without your confirmation."]
    note = _head(mlist, to, f"confirm {token}")
    note["Reply-To"] = confirm_at
    note.set_content("\n".join(lines) + "\n")
    return note.as_bytes()


def welcome(mlist: MailingList, to: str) -> bytes:
    """Tell a new member they are in, and how to post, get help and leave."""
    request = sub_address(mlist.address, "request")
    return _plain(mlist, to, f"Welcome to {mlist.address}", [
        f"You are now a member of the mailing list {mlist.address}.",
        "",
        f"To post, write to {mlist.address}.",
        f'For the list of email commands, send "help" to {request};',
        'to leave, send "unsubscribe" to the same address.',
    ])


def goodbye(mlist: MailingList, to: str) -> bytes:
    """Tell a member who confirmed leaving that they are out."""
    return _plain(mlist, to, f"You have left {mlist.address}", [
        f"{to} is no longer a member of the mailing list {mlist.address}; you will get no more posts from it.",
    ])


def awaiting_approval(mlist: MailingList, to: str) -> bytes:
    """Tell an applicant who confirmed that a moderator decides next."""
    return _plain(mlist, to, f"Your request to join {mlist.address} waits for a moderator", [
        f"Thank you for confirming. Your request to join {mlist.address} now waits for a moderator;",
        "you will hear by mail when it has been decided.",
    ])


def approval_request(mlist: MailingList, address: str, name: str) -> bytes:
    """Tell the owners and moderators (addressed as NAME-owner@) that a confirmed applicant waits, and how to decide."""
    who = f"{name} <{address}>" if name else address
    owners = sub_address(mlist.address, "owner")
    return _plain(mlist, owners, f"{address} asks to join {mlist.address}", [
        f"{who} confirmed a request to join {mlist.address}. To decide:",
        "",
        f"  listserv members approve {mlist.address} {address}",
        f'  listserv members deny {mlist.address} {address} --reason "..."',
        "",
        f"Everything waiting: listserv members pending {mlist.address}",
    ])


def denied(mlist: MailingList, to: str, reason: str) -> bytes:
    """Tell an applicant that a moderator did not approve the request, and why when a reason was given."""
    lines = [f"A moderator of {mlist.address} did not approve your request to join the list."]
    if reason:
        lines += ["", "Reason:", f"  {reason}"]
    lines += ["", f"Questions go to the list owners at {sub_address(mlist.address, 'owner')}."]
    return _plain(mlist, to, f"Your request to join {mlist.address}", lines)
