"""What every email command receives (a Request: the list, the requester, the transaction) and returns (a Result)."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiosqlite

from listserv.addresses import normalise
from listserv.config import Settings
from listserv.errors import BadAddress
from listserv.lists import MailingList
from listserv.store.members import Member


@dataclass(frozen=True)
class Result:
    """What one command did, as the line(s) of the reply that answer it."""

    text: str  # the answer, for the requester only
    for_stranger: bool = False  # reason enough to answer a non-member (help, info, confirm, a refused request)
    attached: tuple[tuple[str, bytes], ...] = ()  # (file name, archived message) for `get`


@dataclass
class Request:
    """One command message being answered; its commands run in order inside the pipeline's transaction."""

    db: aiosqlite.Connection  # the writer's connection: reads see this transaction's own changes
    settings: Settings
    mlist: MailingList
    sender: str  # From: address, normalised; '' when unusable (then nobody gets a reply)
    sender_name: str  # From: display name, the name a self-subscription is made with
    member: Member | None  # the sender's membership (membership.member_in), None for a non-member
    now: float  # the message's arrival time: tokens are issued and judged by it, so a redo judges alike
    mail: list[tuple[bytes, list[str]]] = field(default_factory=list)  # notices to queue besides the reply

    @property
    def is_member(self) -> bool:
        return self.member is not None

    @property
    def entitled(self) -> bool:
        """May see confidential posts in search and get: a member entitled to confidential posts."""
        return self.member is not None and self.member.confidential

    def send(self, content: bytes, to: list[str]) -> None:
        """Queue a notice with the reply, in the same transaction (a confirmation request, a welcome ...)."""
        self.mail.append((content, to))

    def target(self, rest: str) -> str:
        """The address a (un)subscribe is about: the one given, else the sender's; BadAddress names a bad one."""
        words = rest.split()
        if len(words) > 1:
            raise BadAddress(f"expected at most one address, got {len(words)} words")
        if words:
            return normalise(words[0].strip("<>"))
        if not self.sender:
            raise BadAddress("the From: address of this message cannot be used; name the address")
        return self.sender
