"""The emergency rule on its own."""

from listserv.pipeline.rules.emergency import emergency

from ..conftest import compose, mailing_list, member, msgdata


def test_emergency_moderation_holds_members_too():
    """With emergency_moderation on, even a member's post gets the reason."""
    data = msgdata(compose(), mailing_list(emergency_moderation=True), member=member())
    assert emergency(data).rule == "emergency"


def test_no_emergency_by_default():
    """The default list setting is off."""
    assert emergency(msgdata(compose())) is None
