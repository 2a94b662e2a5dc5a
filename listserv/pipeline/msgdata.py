"""The typed per-message data that stages read and fill, and the Decision the rules produce."""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING

from listserv.auth.result import AuthResult
from listserv.lists import MailingList
from listserv.store.members import Member

if TYPE_CHECKING:  # the annotation only: the pipeline need not load the command parser to define MsgData
    from listserv.commands.parser import Commands
    from listserv.pipeline.moderate import Reply

ACCEPT, HOLD, REJECT, DISCARD, FORWARD = "accept", "hold", "reject", "discard", "forward"
COMMAND = "command"  # mail to -request/-confirm: run its email commands (listserv.commands.handle)
BOUNCE = "bounce"  # mail to -bounces that names members: count their bounces (listserv.pipeline.bounce)

# Outcome words recorded per envelope recipient in inbound.outcome.
OUTCOMES = {
    ACCEPT: "accepted", HOLD: "held", REJECT: "rejected", DISCARD: "discarded", FORWARD: "forwarded",
    COMMAND: "processed", BOUNCE: "recorded",
}


def fault(exc: BaseException) -> str:
    """An exception as its type and where it was raised, never its message (which may quote a post).

    >>> try:
    ...     {}["k"]
    ... except KeyError as exc:
    ...     fault(exc).startswith("KeyError at ")
    True
    """
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where}"


@dataclass(frozen=True)
class Reason:
    """Why a rule fired: the rule's name (its module name) and a sentence for the moderator."""

    rule: str
    text: str

    def as_json(self) -> dict[str, str]:
        return {"rule": self.rule, "text": self.text}


@dataclass(frozen=True)
class Decision:
    """What happens to a message: accept, hold, reject, discard (or forward, for -owner), with every reason."""

    action: str
    reasons: tuple[Reason, ...] = ()

    @property
    def outcome(self) -> str:
        return OUTCOMES[self.action]


@dataclass
class MsgData:
    """Everything known about one post to one list; filled by parse and route, read by the rules."""

    mlist: MailingList  # the list the post is for, every setting resolved
    role: str  # which list address it came in on (listserv.addresses.ROLES)
    raw: bytes  # the message exactly as received: archived and held as is
    msg: EmailMessage | None  # the parsed message; None when even parsing failed
    inbound_id: int | None  # the inbound row; None for a post re-run from elsewhere
    received_at: float  # unix time of the 250
    mail_from: str  # envelope sender, '' for the null sender
    recipients: tuple[str, ...] = ()  # the envelope recipients that routed here (outcome keys)
    sender: str = ""  # From: address normalised, '' when missing or unusable
    sender_name: str = ""  # From: display name
    sender_problem: str = ""  # why the From: names no one sender (message.from_mailbox); '' when it does or is missing
    member: Member | None = None  # the sender's members row on this list, None for a non-member
    subject: str = ""  # decoded Subject:, one line
    message_id: str = ""  # Message-ID without brackets; decorate fills it in when missing
    body_text: str = ""  # readable text of the body (message.body_text), for rules and the archive
    defects: list[str] = field(default_factory=list)  # parser defect names, plus 'parse: <Error>' on failure
    limits: str = ""  # the caps the raw message passes (prescan.over); then only its headers were parsed
    already_archived: bool = False  # this Message-ID is in this list's archive already
    confidential: bool = False  # belongs to a confidential thread (set by listserv.pipeline.confidential.mark)
    outside: list[str] = field(default_factory=list)  # confidential post: To/Cc addresses outside the list (leak guard)
    referenced: list[str] | None = None  # Message-IDs it refers to (markers.examine); None until examined
    decision: Decision | None = None  # what the rules (or a failing stage) decided
    content: bytes = b""  # the bytes to send: the decorated post, or the owners' forward
    forward_to: list[str] = field(default_factory=list)  # owners (or moderators) a -owner message goes to
    archive_id: int | None = None  # messages.id once archived, handed to the outbound queue
    bounced: list[str] = field(default_factory=list)  # -bounces mail: the members whose bounce is counted
    policy_refused: tuple[str, int, str] | None = None  # a DSN refusing for policy: (author domain, copies, status)
    reasons: list[Reason] = field(default_factory=list)  # faults met along the way, held with the rules' reasons
    commands: Commands | None = None  # -request/-confirm mail: the email commands read from it
    moderation: Reply | None = None  # -confirm mail answering a held-post notice (listserv.pipeline.moderate)
    auth: AuthResult | None = None  # DKIM/SPF/DMARC of the message (listserv.auth); None: not checked

    @property
    def is_member(self) -> bool:
        return self.member is not None
