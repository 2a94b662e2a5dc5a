"""The unauthenticated rule: a From: that its own domain's DMARC disowns is not taken as that person's word.

Anyone can write a member's address in From:. Where the member's domain
publishes p=quarantine or p=reject and the message fails DMARC (no valid
DKIM signature of that domain, no SPF pass for it from a trusted MTA in
front), the list does what the domain asks receivers to do: the post waits
for a moderator (unauthenticated_posts = hold), is refused (reject), or goes
through (accept). Domains without DMARC pass as before, and so does a DMARC
verdict DNS could not reach ("unknown"): an outage never holds the list's
mail. With require_dkim, a confidential thread's post must carry a valid DKIM
signature of its From: domain whatever the domain publishes.
"""

from __future__ import annotations

from listserv.auth.result import PASS
from listserv.pipeline.msgdata import MsgData, Reason

PREFIX = "sender not authenticated"


def unauthenticated(data: MsgData) -> Reason | None:
    auth = data.auth
    if auth is None or not auth.author_domain:
        return None
    if auth.enforced_fail:
        return Reason("unauthenticated", f"{PREFIX}: dmarc=fail ({_details(data)})")
    if data.confidential and data.mlist.settings.require_dkim and auth.dkim != PASS:
        return Reason("unauthenticated", f"{PREFIX}: dkim={auth.dkim} (require_dkim, confidential thread)")
    return None


def _details(data: MsgData) -> str:
    """What the moderator needs to judge: the domain, what it publishes, what each check said."""
    auth = data.auth
    return f"{auth.author_domain} publishes p={auth.policy.policy}; dkim={auth.dkim}, spf={auth.spf}"


def action(data: MsgData) -> str:
    """hold, reject or accept, as the list is set."""
    return data.mlist.settings.unauthenticated_posts
