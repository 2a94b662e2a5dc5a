"""Every mail the list writes leaves through here: queue() signs it once and puts it in the outbound queue.

Posts, confidential copies, digests, notices, command replies,
confirmation requests, owner forwards and bounce notices are all queued by
queue() (or, rewritten while queued, by replace()), so what happens to
outgoing mail — DKIM signing, the ARC seal of a post's copies — happens in
one place, once per message and never once per recipient. requeue() only
moves bytes that came through queue() already to fewer recipients.

    notices.py      the headers of every mail the list writes and the helpers all
                    builders share (when, boundary); rejections, the leak
                    guard's notice, forwards to the owners
    owner_mail.py   plain notices from the owner address (the builders' base)
    bounce_notices.py  delivery stopped for bounces; the policy refusal report
    moderator_notices.py  the held-post notice and the daily reminder
    command_mail.py the command replies, confirmation requests, join/leave notices
    digest_issue.py a digest issue (multipart/digest)
    personal.py     a copy per recipient: their one-click unsubscribe headers, signed with them
    keys.py         the domains' DKIM keys; domains.py: which domains sign
    sign.py         DKIM signatures and the ARC seal, once per message (prepare(): once per body)
    dkim_signer.py  our DKIM signer on OpenSSL (relaxed/relaxed; rsa-sha256, ed25519-sha256)
    arc_seal.py     the list's ARC set on a post's copies, on OpenSSL too
"""

from __future__ import annotations

from typing import Sequence

import aiosqlite

from listserv.addresses import sub_address
from listserv.auth.result import AuthResult
from listserv.config import Settings
from listserv.lists import MailingList
from listserv import one_click
from listserv.outgoing import personal as personal_copies
from listserv.outgoing.sign import finish, unsigned
from listserv.store import outbound

__all__ = ["queue", "replace", "requeue", "finish"]


async def queue(
    db: aiosqlite.Connection, settings: Settings, mlist: MailingList, content: bytes, recipients: Sequence[str],
    archive_id: int | None = None, verp: bool = False, post: bool = False, xverp: bool = False,
    auth: AuthResult | None = None, per_member: bool | None = None,
) -> int | None:
    """Sign content (and seal it when it is a copy of a post, saying what auth found of it as it arrived)
    and queue it for recipients, with NAME-bounces@DOMAIN as envelope sender; the outbound message id,
    None when nobody gets it.

    per_member (default: post; digests say True): a copy to members, which carries their one-click
    unsubscribe link when that is on (listserv.one_click). It is then queued without List-Unsubscribe and
    each copy gets its member's headers and signature at delivery (listserv.outgoing.personal), VERP'd.
    """
    if not recipients:
        return None
    personal = one_click.enabled(settings) and bool(post if per_member is None else per_member)
    if personal:
        content = personal_copies.without_personal(content)
    return await outbound.enqueue(
        db, mlist.id, sub_address(mlist.address, "bounces"), finish(settings, mlist.domain, content, post, auth),
        list(recipients), settings.delivery.max_recipients, archive_id, verp=verp or personal, xverp=xverp,
        personal=personal,
    )


async def replace(
    db: aiosqlite.Connection, settings: Settings, mlist: MailingList, outbound_message_id: int, content: bytes
) -> None:
    """New bytes for a queued message the list wrote itself (a digest issue rebuilt, a notice without a
    subject): the old signature goes, the new bytes are signed. A message whose copies are personalised
    (a digest issue) stays without List-Unsubscribe, as queue() left it."""
    content = unsigned(content)
    if await outbound.is_personal(db, outbound_message_id):
        content = personal_copies.without_personal(content)
    await outbound.replace_content(db, outbound_message_id, finish(settings, mlist.domain, content))


async def requeue(db: aiosqlite.Connection, copy: dict, content: bytes, recipients: list[str]) -> int | None:
    """A queued message's bytes (signed when they were queued) as a new message for some of its recipients."""
    return await outbound.enqueue(db, copy["list_id"], copy["mail_from"], content, recipients,
                                  copy["batch_size"], copy["archive_id"], copy["verp"], copy["xverp"],
                                  copy.get("personal", False))
