"""Confidential copies rebuilt from the archive get the same DMARC mitigation as the live copies.

A post by a member whose domain publishes p=reject, later re-marked
confidential (or fetched with `get`), is rebuilt from the archive: those
copies must not go out under the author's own From either, or the providers
refuse them. The real pipeline on a real store; the author's DMARC record and
DKIM key come from the loopback DNS server.
"""

from __future__ import annotations

import email
from email import policy

import pytest

from listserv.store import members
from tests.dkim_keys import SigningKey

from .conftest import DIGEST_ENTITLED, DIGEST_NOT_ENTITLED, TEAM, compose, parsed, queued, secret

AUTHOR = "lee@agency.example"
MUNGED = ("Ann Lee via team", TEAM)


@pytest.fixture
async def lee(store, team, dns) -> SigningKey:
    """Ann Lee of agency.example (p=reject, DKIM key published), an entitled member of team."""
    dns.zone.add("_dmarc.agency.example", "TXT", "v=DMARC1; p=reject")
    key = SigningKey("agency.example")
    key.publish(dns.zone)
    await store.write(members.add, team.id, {"address": AUTHOR, "name": "Ann Lee"})
    return key


def shown_from(raw: bytes) -> tuple[str, str]:
    mailbox = parsed(raw)["From"].addresses[0]
    return mailbox.display_name, mailbox.addr_spec


def by_lee(key: SigningKey, subject: str, body: str, message_id: str) -> bytes:
    """A post of Ann Lee's, DKIM-signed by her domain's key, so it passes inbound DMARC."""
    return key.sign(compose(subject, body, message_id, sender=f"Ann Lee <{AUTHOR}>"))


def marking_reply() -> bytes:
    """ann's confidential reply to Lee's post: it turns the thread confidential."""
    return secret("c1@example.org", headers=(("In-Reply-To", "<p1@agency.example>"),))


async def test_re_marked_queued_copy_is_munged(store, lee, submit):
    """Lee's post still queued when its thread turns confidential: bob's rebuilt confidential copy comes From
    "Ann Lee via team" <team@…> with Lee in X-Original-From, like the live copy was."""
    assert set((await submit(by_lee(lee, "Expert witness?", "Anyone in Ohio?\n", "p1@agency.example"),
                             mail_from=AUTHOR)).values()) == {"accepted"}
    [live] = (await queued(store))["bob@example.org"]
    assert shown_from(live) == MUNGED
    await submit(marking_reply())
    [rebuilt] = [c for c in (await queued(store))["bob@example.org"] if b"Anyone in Ohio?" in c]
    assert parsed(rebuilt)["Sensitivity"] == "Company-Confidential"
    assert shown_from(rebuilt) == MUNGED
    assert parsed(rebuilt)["X-Original-From"] == f"Ann Lee <{AUTHOR}>"


async def test_re_marked_post_for_digest_readers_is_munged(store, lee, submit):
    """An entitled digest reader gets the re-marked post as a confidential copy of its own: munged too."""
    await submit(by_lee(lee, "Expert witness?", "Anyone in Ohio?\n", "p1@agency.example"), mail_from=AUTHOR)
    await submit(marking_reply())
    [individual] = [c for c in (await queued(store))[DIGEST_ENTITLED] if b"Anyone in Ohio?" in c]
    assert b"multipart/digest" not in individual
    assert shown_from(individual) == MUNGED


async def test_get_of_a_confidential_post_is_munged(store, lee, submit):
    """bob's `get 1` of Lee's confidential post: the attached copy is the one the list sends, munged."""
    post = lee.sign(secret("p1@agency.example", sender=f"Ann Lee <{AUTHOR}>"))
    assert set((await submit(post, mail_from=AUTHOR)).values()) == {"accepted"}
    ask = compose("commands", "get 1\n", "q1@x.example", sender="bob@example.org", to="team-request@example.org")
    await submit(ask, rcpts=("team-request@example.org",), mail_from="bob@example.org")
    [reply] = [c for c in (await queued(store))["bob@example.org"] if b"Results of your commands" in c]
    [attached] = [part for part in parsed(reply).walk() if part.get_filename() == "post-1.eml"]
    copy = email.message_from_bytes(attached.get_payload(decode=True) or bytes(attached.get_content()),
                                    policy=policy.default)
    assert copy["Sensitivity"] == "Company-Confidential"
    mailbox = copy["From"].addresses[0]
    assert (mailbox.display_name, mailbox.addr_spec) == MUNGED
    assert copy["X-Original-From"] == f"Ann Lee <{AUTHOR}>"


async def test_unknown_policy_leaves_rebuilt_copy_alone(store, team, submit):
    """A post whose author's domain publishes no DMARC record: the rebuilt confidential copy keeps its From."""
    await submit(compose("Expert witness?", "Anyone in Ohio?\n", "p1@agency.example"))
    await submit(marking_reply())
    [rebuilt] = [c for c in (await queued(store))["bob@example.org"] if b"Anyone in Ohio?" in c]
    assert shown_from(rebuilt) == ("Ann Member", "ann@example.org")


async def test_digest_comes_from_the_list_and_keeps_the_authors_from_inside(store, lee, submit, cli):
    """A digest carrying Lee's post is From the list itself (nothing for DMARC to refuse); inside, the post keeps
    Lee's real From, as the archive does."""
    await submit(by_lee(lee, "Expert witness?", "Anyone in Ohio?\n", "p1@agency.example"), mail_from=AUTHOR)
    assert (await cli("digests", "send", TEAM)).exit_code == 0
    [digest] = (await queued(store))[DIGEST_NOT_ENTITLED]
    assert parsed(digest)["From"].addresses[0].addr_spec == "team-request@example.org"
    inner = [part.get_content() for part in parsed(digest).walk() if part.get_content_type() == "message/rfc822"]
    assert [post["From"] for post in inner] == [f"Ann Lee <{AUTHOR}>"]


async def test_re_marked_copy_is_wrapped_when_the_list_wraps(store, lee, submit, cli):
    """dmarc_mitigation wrap: the rebuilt confidential copy is a message from the list with the post attached,
    the marking outside, as a live wrapped copy."""
    assert (await cli("lists", "set", TEAM, "dmarc_mitigation", "wrap")).exit_code == 0
    await submit(by_lee(lee, "Expert witness?", "Anyone in Ohio?\n", "p1@agency.example"), mail_from=AUTHOR)
    await submit(marking_reply())
    [rebuilt] = [c for c in (await queued(store))["bob@example.org"] if b"Anyone in Ohio?" in c]
    assert shown_from(rebuilt) == MUNGED and parsed(rebuilt)["Sensitivity"] == "Company-Confidential"
    inner = [part.get_content() for part in parsed(rebuilt).walk() if part.get_content_type() == "message/rfc822"]
    assert [post["From"] for post in inner] == [f"Ann Lee <{AUTHOR}>"]
