"""The -bounces path of the pipeline: VERP first, then flufl.bounce; warnings dropped; the unreadable to the owners."""

from __future__ import annotations

from listserv import bounces, lists
from listserv.store import audit, held, members
from tests.bounces.conftest import sample
from tests.bounces.helpers import BOUNCES, LIST, queued, submit

VERP_BOB = "team-bounces+bob=example.org@example.org"

UNREADABLE = b"""From: postmaster@mx.example.net
To: team-bounces@example.org
Subject: something about your mail

We could not do what you asked. Sorry.
"""

VACATION = b"""From: bob@example.org
To: team-bounces@example.org
Subject: Out of office
Auto-Submitted: auto-replied

I am away until Monday.
"""


async def _score(store, team, address: str) -> float:
    return (await members.get(store.db, team.id, address)).bounce_score


async def test_a_verp_bounce_counts_for_the_member_it_names(store, settings, team):
    """A DSN to bob's VERP address counts for bob, even though the DSN itself names someone else."""
    outcome = await submit(store, settings, sample("dsn_02.txt"), rcpts=(VERP_BOB,), mail_from="")
    assert outcome == {VERP_BOB: "recorded"}
    assert await _score(store, team, "bob@example.org") == 1.0


async def test_an_unreadable_verp_bounce_still_counts(store, settings, team):
    """Whatever comes back to a member's own bounce address is about that member (Mailman's rule)."""
    outcome = await submit(store, settings, UNREADABLE, rcpts=(VERP_BOB,), mail_from="")
    assert outcome == {VERP_BOB: "recorded"} and await _score(store, team, "bob@example.org") == 1.0


async def test_a_verp_warning_is_not_counted(store, settings, team):
    """A delayed-delivery DSN (temporary) to a VERP address is dropped with a reason, the score unchanged."""
    outcome = await submit(store, settings, sample("dsn_06.txt"), rcpts=(VERP_BOB,), mail_from="")
    assert outcome == {VERP_BOB: "discarded"} and await _score(store, team, "bob@example.org") == 0.0
    entry = (await audit.entries(store.db, team.id))[0]
    assert (entry["action"], entry["detail"]) == ("discard", "rules: bounce")


async def test_an_auto_reply_is_not_a_bounce(store, settings, team):
    """A vacation message to the VERP address is dropped: it is not a bounce."""
    outcome = await submit(store, settings, VACATION, rcpts=(VERP_BOB,), mail_from="bob@example.org")
    assert outcome == {VERP_BOB: "discarded"} and await _score(store, team, "bob@example.org") == 0.0


async def test_an_unreadable_bounce_goes_to_the_owners(store, settings, team):
    """A bounce nobody can read (no VERP, parser finds nothing) is forwarded to the owners, original attached."""
    outcome = await submit(store, settings, UNREADABLE, rcpts=(BOUNCES,), mail_from="")
    assert outcome == {BOUNCES: "forwarded"}
    [note] = await queued(store)
    assert note["recipients"] == ["olga@example.org"]
    assert "unrecognised bounce" in note["message"]["Subject"]
    intro, original = note["message"].iter_parts()
    assert "could not tell whose address bounced" in intro.get_content()
    assert original.get_content()["Subject"] == "something about your mail"


async def test_a_bounce_naming_only_strangers_goes_to_the_owners(store, settings, team):
    """A readable bounce for addresses that are not members is forwarded, saying so."""
    outcome = await submit(store, settings, sample("dsn_02.txt"), rcpts=(BOUNCES,), mail_from="")
    assert outcome == {BOUNCES: "forwarded"}
    [note] = await queued(store)
    assert "names no member" in next(note["message"].iter_parts()).get_content()


async def test_a_verp_bounce_for_a_former_member_is_dropped(store, settings, team):
    """A VERP bounce for an address that left the list is dropped, not forwarded."""
    await store.write(members.remove, team.id, "bob@example.org")
    outcome = await submit(store, settings, sample("dsn_02.txt"), rcpts=(VERP_BOB,), mail_from="")
    assert outcome == {VERP_BOB: "discarded"} and await queued(store) == []


async def test_our_own_notice_bouncing_is_never_forwarded_again(store, settings, team):
    """An unreadable bounce of mail from the list's owner address is dropped, so list and owner cannot loop."""
    raw = UNREADABLE + b"\n--- original ---\nX-BeenThere: team-owner@example.org\nSubject: held post\n"
    outcome = await submit(store, settings, raw, rcpts=(BOUNCES,), mail_from="")
    assert outcome == {BOUNCES: "discarded"} and await queued(store) == []


async def test_without_owners_an_unreadable_bounce_is_kept(store, settings, team):
    """No owner or moderator to forward to: the bounce is held with the reason, never lost."""
    for address in ("olga@example.org", "mod@example.org"):
        await store.write(members.remove, team.id, address)
    outcome = await submit(store, settings, UNREADABLE, rcpts=(BOUNCES,), mail_from="")
    assert outcome == {BOUNCES: "held"}
    [row] = await held.waiting(store.db)
    assert row["role"] == "bounces" and "no owner" in row["reasons"][0]["text"]


async def test_a_crashing_parser_means_unrecognised(store, settings, team, monkeypatch):
    """flufl.bounce raising on a hostile message: the bounce is forwarded to the owners, nothing is lost."""
    def broken(msg):
        raise ValueError("detector bug")

    monkeypatch.setattr(bounces, "all_failures", broken)
    assert bounces.scan(UNREADABLE).parser_failed
    outcome = await submit(store, settings, UNREADABLE, rcpts=(BOUNCES,), mail_from="")
    assert outcome == {BOUNCES: "forwarded"}


async def test_past_the_threshold_by_bounce_mail(store, settings, team):
    """A bounce mail that takes a member past the threshold stops delivery and queues both notices."""
    await lists.set_setting(store, LIST, "bounce_threshold", "1")
    outcome = await submit(store, settings, UNREADABLE, rcpts=(VERP_BOB,), mail_from="")
    assert outcome == {VERP_BOB: "recorded"}
    assert (await members.get(store.db, team.id, "bob@example.org")).delivery == "nomail"
    assert sorted(r for q in await queued(store) for r in q["recipients"]) == ["bob@example.org", "olga@example.org"]


def _many_parts(count: int) -> bytes:
    head = b'From: postmaster@mx.example.net\nTo: team-bounces@example.org\nSubject: failure\n' \
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
    return head + b"--b\nContent-Type: text/plain\n\nx\n" * count + b"--b--\n"


async def test_a_bounce_over_a_cap_is_read_from_its_envelope_only(store, settings, team):
    """1,500 parts to bob's VERP address count for bob; to the plain -bounces address they go to the owners."""
    outcome = await submit(store, settings, _many_parts(1500), rcpts=(VERP_BOB,), mail_from="")
    assert outcome == {VERP_BOB: "recorded"} and await _score(store, team, "bob@example.org") == 1.0
    outcome = await submit(store, settings, _many_parts(1500), rcpts=(BOUNCES,), mail_from="")
    assert outcome == {BOUNCES: "forwarded"}
