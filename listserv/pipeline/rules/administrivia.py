"""The administrivia rule: a short post that is just a command (unsubscribe, help ...) was meant for -request.

Like Mailman, hold it instead of mailing "unsubscribe" to everyone; the
moderator can point the member to the right address.
"""

from __future__ import annotations

import re

from listserv.pipeline.msgdata import MsgData, Reason

COMMANDS = frozenset({"subscribe", "unsubscribe", "unsub", "signoff", "signon"})
# Ordinary words too ("Help!" is a fair subject for a plea): they count only alone, with at most one body line.
WEAK_COMMANDS = frozenset({"help", "join", "leave", "confirm", "info", "who"})
MAX_BODY_LINES = 5  # a longer post is a real post that happens to start with such a word
MAX_COMMAND_WORDS = 3  # "set digest on", "unsubscribe ann@example.org"
_REPLY = re.compile(r"^((re|aw|fwd?)\s*:\s*)+", re.IGNORECASE)


def command_word(line: str) -> str | None:
    """The command a line consists of, or None when it is ordinary text.

    >>> command_word("Unsubscribe")
    'unsubscribe'
    >>> command_word("Re: subscribe me please now")
    >>> command_word("set digest on")
    >>> command_word("help!")
    'help'
    >>> command_word("help me")
    """
    words = _REPLY.sub("", line.strip()).strip().split()
    if not words or len(words) > MAX_COMMAND_WORDS:
        return None
    word = words[0].casefold().rstrip(":.!?")
    if word in COMMANDS or (word in WEAK_COMMANDS and len(words) == 1):
        return word
    return None


def _body_lines(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        if line.strip() == "--":  # the signature is not part of what was asked
            break
        if line.strip() and not line.lstrip().startswith(">"):
            lines.append(line.strip())
    return lines


def administrivia(data: MsgData) -> Reason | None:
    lines = _body_lines(data.body_text)
    if len(lines) > MAX_BODY_LINES:
        return None
    subject = data.subject.replace(data.mlist.subject_prefix, "") if data.mlist.subject_prefix else data.subject
    for where, line in (("subject", subject), ("first line", lines[0] if lines else "")):
        word = command_word(line)
        if word in WEAK_COMMANDS and len(lines) > 1:
            continue
        if word:
            return Reason(
                "administrivia",
                f"the {where} is the command '{word}': meant for {data.mlist.name}-request@{data.mlist.domain}?",
            )
    return None
