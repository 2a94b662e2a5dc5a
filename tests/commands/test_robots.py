"""No backscatter, no loops: mail from robots gets no reply and runs no command, not even a confirmation."""

from __future__ import annotations

import pytest

from listserv import membership
from listserv.store import audit

from tests.commands.conftest import REQUEST, TEAM, command_mail, token_of

CAROL = "carol@example.com"

ROBOTS = [
    ("null sender", "ann@example.org", "", ()),
    ("MAILER-DAEMON", "MAILER-DAEMON@example.org", "MAILER-DAEMON@example.org", ()),
    ("Auto-Submitted", "ann@example.org", "ann@example.org", (("Auto-Submitted", "auto-replied"),)),
    ("Auto-Submitted generated", "ann@example.org", "ann@example.org", (("Auto-Submitted", "auto-generated"),)),
    ("Precedence bulk", "ann@example.org", "ann@example.org", (("Precedence", "bulk"),)),
    ("X-Autoreply", "ann@example.org", "ann@example.org", (("X-Autoreply", "yes"),)),
    ("noreply", "noreply@example.org", "noreply@example.org", ()),
]


@pytest.mark.parametrize("why, sender, mail_from, headers", ROBOTS, ids=[row[0] for row in ROBOTS])
async def test_robot_mail_gets_no_reply_and_changes_nothing(store, team, submit, take, why, sender, mail_from, headers):
    """help and set from a robot: discarded, audited as 'automated', no mail, the member's delivery unchanged."""
    raw = command_mail(sender=sender, body="help\nset delivery nomail", headers=headers)
    assert await submit(raw, mail_from=mail_from) == {REQUEST: "discarded"}
    assert await take() == []
    assert (await membership.get(store, TEAM, "ann@example.org")).delivery == "regular"
    assert "automated" in (await audit.entries(store.db, team.id))[0]["detail"]


async def test_auto_submitted_no_is_a_person(store, team, submit, take):
    """Auto-Submitted: no (RFC 3834: written by a person) is answered as usual."""
    await submit(command_mail(body="help", headers=(("Auto-Submitted", "no"),)))
    [(reply, to, _)] = await take()
    assert to == ["ann@example.org"]


async def test_vacation_reply_to_a_confirmation_does_not_confirm(store, team, submit, take):
    """An auto-reply to the confirmation request (Reply-To: the confirm address) confirms nothing."""
    await submit(command_mail(sender=CAROL, subject="subscribe"), mail_from=CAROL)
    token = token_of((await take())[0][0])
    confirm_at = f"team-confirm+{token}@example.org"
    vacation = command_mail(sender=CAROL, subject=f"Out of office: confirm {token}", to=confirm_at,
                            headers=(("Auto-Submitted", "auto-replied"),))
    assert await submit(vacation, rcpts=(confirm_at,), mail_from=CAROL) == {confirm_at: "discarded"}
    old_style = command_mail(sender=CAROL, subject=f"Re: confirm {token}", headers=(("X-Autorespond", "on"),))
    assert await submit(old_style, mail_from=CAROL) == {REQUEST: "discarded"}
    assert await take() == [] and await membership.pending(store, TEAM) == []


async def test_our_own_reply_coming_back_is_discarded(store, team, submit, take):
    """A reply of ours forwarded back to -request (X-BeenThere: NAME-request@) is a loop: discarded."""
    raw = command_mail(body="help", headers=(("X-BeenThere", REQUEST),))
    assert await submit(raw) == {REQUEST: "discarded"}
    assert await take() == []


async def test_unparseable_command_mail_is_kept_for_the_owner(store, team, submit, take, monkeypatch):
    """If parsing itself fails, the message is held (kept, never dropped) and the sender is not answered."""
    from listserv.pipeline import parse

    def broken(raw):
        return None, ["parse: ValueError"]

    monkeypatch.setattr(parse, "parse", broken)
    assert await submit(command_mail(body="help")) == {REQUEST: "held"}
    assert "ann@example.org" not in [rcpt for _, rcpts, _ in await take() for rcpt in rcpts]
