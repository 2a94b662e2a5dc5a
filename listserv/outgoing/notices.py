"""Build and queue the messages the list itself writes: rejection notices and forwards to the owners.

Every notice comes From: NAME-owner@DOMAIN with envelope sender
NAME-bounces@DOMAIN and an Auto-Submitted header (RFC 3834), so vacation
robots stay quiet and bounces of notices come back to us, not to a person.
A notice never carries confidential content: a confidential post's subject is
left out and its body is never quoted.
"""

from __future__ import annotations

import email.utils
import re
import secrets
from email import policy
from email.message import EmailMessage, Message
from collections.abc import Iterable


from listserv import message, timefmt
from listserv.addresses import sub_address
from listserv.lists import MailingList

ROBOT_LOCAL_PARTS = ("mailer-daemon", "postmaster", "noreply", "no-reply")
HIDDEN_SUBJECT = "(confidential post: subject not shown)"  # what a notice says instead of a confidential subject


def is_automated(mail_from: str, sender: str, msg: Message | None) -> bool:
    """True for mail no notice may answer: null/daemon senders, auto-submitted or bulk mail (RFC 3834).

    >>> is_automated("", "ann@example.org", None)
    True
    >>> is_automated("MAILER-DAEMON@example.org", "ann@example.org", None)
    True
    >>> is_automated("ann@example.org", "ann@example.org", None)
    False
    """
    if not mail_from or mail_from == "<>":
        return True
    for address in (mail_from, sender):
        if address.partition("@")[0].casefold() in ROBOT_LOCAL_PARTS:
            return True
    if msg is None:
        return False
    auto = message.header(msg, "Auto-Submitted").casefold()
    precedence = message.header(msg, "Precedence").casefold()
    return (auto not in ("", "no")) or precedence in ("bulk", "junk", "list")


SENDER_NAMES = {"owner": "owner", "request": "requests"}  # the From: display name per list role


def envelope(mlist: MailingList, to: str, subject: str, auto: str, role: str = "owner") -> EmailMessage:
    """The headers every mail the list writes itself carries: from NAME-owner@ or NAME-request@,
    dated, with a Message-ID, Auto-Submitted (RFC 3834) and X-BeenThere so it never loops back."""
    sender = sub_address(mlist.address, role)
    note = EmailMessage(policy=policy.default)
    note["From"] = email.utils.formataddr((f"{mlist.address} {SENDER_NAMES[role]}", sender))
    note["To"] = to
    note["Subject"] = subject
    note["Date"] = email.utils.formatdate(usegmt=True)
    note["Message-ID"] = email.utils.make_msgid(domain=mlist.domain)
    note["Auto-Submitted"] = auto
    note["X-BeenThere"] = sender
    return note


def rejection(
    mlist: MailingList, to: str, reasons: list[str], subject: str, confidential: bool, in_reply_to: str = ""
) -> bytes:
    """The notice telling a sender why their post was rejected (subject only when not confidential)."""
    note = envelope(mlist, to, f"Your message to {mlist.address} was rejected", "auto-replied")
    if in_reply_to:
        note["In-Reply-To"] = f"<{in_reply_to}>"
        note["References"] = f"<{in_reply_to}>"
    what = "your message" if confidential or not subject else f'your message "{subject}"'
    lines = [f"The list {mlist.address} did not distribute {what}.", "", "Reason:"]
    lines += [f"  {reason}" for reason in reasons] or ["  rejected by the list's policy"]
    lines += ["", f"Questions go to the list owners at {sub_address(mlist.address, 'owner')}."]
    note.set_content("\n".join(lines) + "\n")
    return note.as_bytes()


def outside_recipients(mlist: MailingList, to: str, outside: list[str], held: bool, message_id: str = "") -> bytes:
    """The reply-all leak guard's notice: which To/Cc addresses of a confidential post were outside the list.

    It names addresses only: never the post's subject or a word of its body
    (the moderators who get it may not have read the post; the sender's own
    mail program shows which post it is, from In-Reply-To).
    """
    note = envelope(mlist, to, f"A confidential post to {mlist.address} named people outside the list",
                     "auto-replied")
    if message_id:
        note["In-Reply-To"] = f"<{message_id}>"
    done = (
        "The list is holding the post for a moderator." if held else
        "The list sent its copies only to its members, with those addresses removed from To and Cc."
    )
    lines = [
        f"A confidential post to {mlist.address} was addressed or copied (To/Cc) to these addresses,",
        "which are not members entitled to the list's confidential threads:", "",
        *(f"  {address}" for address in outside), "",
        done,
        "Your mail program may have sent them a copy directly; the list cannot recall that copy.",
        "If it did, please ask them to delete it.", "",
        f"Questions go to the list owners at {sub_address(mlist.address, 'owner')}.",
    ]
    note.set_content("\n".join(lines) + "\n")
    return note.as_bytes()


def owner_forward(mlist: MailingList, raw: bytes, subject: str, intro: str = "") -> bytes:
    """The message for the owners: a short note with the original attached byte for byte (message/rfc822).

    Built by hand around the raw bytes, so a message the email package cannot
    re-serialise still reaches the owners intact. Auto-Submitted is
    auto-generated: a forward is not a reply (RFC 3834). intro replaces the
    note's default first line (mail sent to -owner) for other forwards, such as
    a bounce nobody could read.
    """
    owner = sub_address(mlist.address, "owner")
    original = raw.partition(b"\n")[2] if raw.startswith(b"From ") else raw
    original = original.replace(b"\r\n", b"\n")
    separator = boundary([original])
    title = f"Message for the owners of {mlist.address}: {subject or '(no subject)'}"
    head = envelope(mlist, owner, title, "auto-generated")
    mime = f'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="{separator}"\n\n'
    intro = (intro or f"This message was sent to {owner}, the address of the owners of {mlist.address}.") + "\n"
    mark = f"--{separator}\n".encode("ascii")
    return (
        head.as_bytes().rstrip(b"\n")  # the header block only: the multipart body is ours, built below
        + b"\n"
        + mime.encode("ascii")
        + mark
        + b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        + intro.encode("utf-8")
        + b"\n"
        + mark
        + b"Content-Type: message/rfc822\nContent-Disposition: inline\nContent-Transfer-Encoding: 8bit\n\n"
        + original.rstrip(b"\n")
        + f"\n\n--{separator}--\n".encode("ascii")
    )


def when(unix_time: float) -> str:
    """A time as people read it in a notice: in UTC, whatever the server's zone (see listserv.timefmt).

    >>> when(1795753825.0)
    '2026-11-27 04:30 UTC'
    """
    return timefmt.in_utc(unix_time)


def boundary(contents: Iterable[bytes], prefix: str = "=_listserv_") -> str:
    """A MIME boundary that occurs in none of the contents a message built by hand wraps."""
    contents = list(contents)
    while True:
        found = f"{prefix}{secrets.token_hex(12)}"
        if not any(found.encode("ascii") in content for content in contents):
            return found


def without_subjects(content: bytes, subjects: list[str]) -> bytes | None:
    """A queued notice with these (now confidential) subjects replaced by HIDDEN_SUBJECT in its Subject and
    text parts; the content itself when none appears; None when one is still left elsewhere (an enclosed
    message's headers, an attachment), so the notice must be withdrawn instead.
    """
    pattern = _pattern(subjects)
    if pattern is None:
        return content
    try:
        note = message.parse(content)
        changed = _hidden_in(note, pattern)
        if _shows(note, pattern):
            return None
        return note.as_bytes(policy=policy.default) if changed else content
    except Exception:  # a notice we cannot re-serialise: withdrawn rather than sent with the subject
        return None


def names_any(content: bytes, phrases: list[str]) -> bool:
    """Whether a queued mail names any of these (Message-IDs, subjects) anywhere: headers, text, enclosed
    messages, at any depth; True when it cannot be read (then it is treated as naming them)."""
    pattern = _pattern(phrases)
    if pattern is None:
        return False
    try:
        return _shows(message.parse(content), pattern)
    except Exception:  # unreadable: assume the worst
        return True


def _pattern(phrases: list[str]) -> re.Pattern | None:
    """One regular expression for the phrases as whole words; None when there is none."""
    wanted = [phrase for phrase in dict.fromkeys(p.strip() for p in phrases) if phrase]
    if not wanted:
        return None
    return re.compile("|".join(rf"(?<!\w){re.escape(phrase)}(?!\w)" for phrase in wanted))


def _hidden_in(note: EmailMessage, pattern: re.Pattern) -> bool:
    """Replace the subjects in the top Subject and the top-level text parts; True when anything changed."""
    changed = False
    subject = str(note.get("Subject", ""))
    if pattern.search(subject):
        note.replace_header("Subject", pattern.sub(HIDDEN_SUBJECT, subject))
        changed = True
    parts = [note] if not note.is_multipart() else [p for p in note.iter_parts() if not p.is_multipart()]
    for part in parts:
        if part.get_content_maintype() != "text" or part.get_content_disposition() == "attachment":
            continue
        text = part.get_content()
        if pattern.search(text):
            part.set_content(pattern.sub(HIDDEN_SUBJECT, text), subtype=part.get_content_subtype(), charset="utf-8")
            changed = True
    return changed


def _shows(note: Message, pattern: re.Pattern) -> bool:
    """A subject still appears in any header or any text of the notice, enclosed messages included."""
    for part in note.walk():
        if any(pattern.search(message.decode_words(str(value))) for value in part.values()):
            return True
        if not part.is_multipart() and part.get_content_maintype() in ("text", "message"):
            payload = part.get_payload(decode=True) or b""
            if pattern.search(payload.decode(part.get_content_charset() or "utf-8", "replace")):
                return True
    return False

