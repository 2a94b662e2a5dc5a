"""Build the notices about mail that does not arrive: a member's delivery stopped for bounces, and the owners'
report of copies receivers refused for policy.

All are plain text from the list's owner address (owner_mail.plain); none
names a post's subject, so a confidential one never leaves the server in them.
listserv.bounces and listserv.policy_bounces decide when they go.
"""

from __future__ import annotations

from listserv.addresses import sub_address
from listserv.lists import MailingList
from listserv.outgoing import owner_mail
from listserv.wording import plural


def member_notice(mlist: MailingList, address: str, score: float) -> bytes:
    """Tell a member that posts stopped because mail to them bounced, and how to get them again."""
    request, owner = sub_address(mlist.address, "request"), sub_address(mlist.address, "owner")
    lines = [
        f"Mail from {mlist.address} to you ({address}) has been bouncing, so the list has",
        "stopped sending you posts. You are still a member.",
        "",
        f"Bounce score: {score:.1f} (delivery stops at {mlist.settings.bounce_threshold}).",
        "",
        f"When your mailbox works again, send a message to {request}",
        "containing the line",
        "",
        "    set delivery regular",
        "",
        f"(or 'set delivery digest'), or ask the list owners at {owner}.",
    ]
    return owner_mail.plain(mlist, address, f"Your delivery from {mlist.address} has stopped (bounces)", lines)


def owner_notice(mlist: MailingList, address: str, score: float, was: str, source: str) -> bytes:
    """Tell the owners which member stopped getting mail, why, and the command that turns it back on."""
    lines = [
        f"Mail to {address}, a member of {mlist.address}, has been bouncing.",
        f"Their delivery was '{was}' and is now 'nomail'; they stay a member.",
        "",
        f"Bounce score: {score:.1f} (threshold {mlist.settings.bounce_threshold}); last bounce: {source}.",
        "",
        "To deliver to them again:",
        f"    listserv members set {mlist.address} {address} delivery {was}",
    ]
    subject = f"{mlist.address}: delivery to {address} stopped (bounces)"
    return owner_mail.plain(mlist, sub_address(mlist.address, "owner"), subject, lines)



def report(mlist: MailingList, rows: list[dict]) -> bytes:
    """The owners' report: per day and author domain, how many copies receivers refused for policy.

    Domains and counts only: no member address, no subject (a confidential
    post's subject must never leave the server in a notice).
    """
    total = sum(row["refusals"] for row in rows)
    lines = [
        f"Receiving mail servers refused {plural(total, 'copy', 'copies')} of posts to {mlist.address}",
        "for policy reasons (DMARC, sender authentication or another 5.7.x policy).",
        "These refusals are not the members' fault: their bounce scores were not raised.",
        "",
        "  day         refused  author's domain",
    ]
    lines += [f"  {row['day']}  {row['refusals']:>7}  {row['author_domain'] or '(unknown)'}" for row in rows]
    lines += ["", "Example reply: " + (rows[0]["example"] or "(none recorded)"), "",
              "Members on the refusing providers did not get those copies. Authors at a domain",
              "publishing DMARC p=reject or p=quarantine are refused when the list changes their post."]
    subject = f"{mlist.address}: copies refused for policy reasons"
    return owner_mail.plain(mlist, sub_address(mlist.address, "owner"), subject, lines)
