"""The ambiguous_sender rule: a From: that does not name exactly one mailbox is held, never read as a member.

Two From: headers, several addresses in one, group syntax, several
angle-addrs, or an entry with no usable address: mail programs disagree on
who sent such a post (or show someone other than a lenient parser would
take), so no member's right to post may be granted on it. The nonmember
rule skips these posts (they have no sender), so a moderator sees them held
with this reason whatever the list's nonmember_action.
"""

from __future__ import annotations

from listserv.pipeline.msgdata import MsgData, Reason


def ambiguous_sender(data: MsgData) -> Reason | None:
    if not data.sender_problem:
        return None
    return Reason("ambiguous_sender", f"ambiguous sender: {data.sender_problem[:300]}")
