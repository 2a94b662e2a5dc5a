"""The nonmember rule on its own."""

from listserv.pipeline.rules import nonmember

from ..conftest import compose, mailing_list, member, msgdata


def test_stranger_fires_with_the_address():
    """A From: address that is not a member fires, naming the address and the list."""
    reason = nonmember.nonmember(msgdata(compose(sender="x@elsewhere.example")))
    assert reason.rule == "nonmember" and "x@elsewhere.example" in reason.text and "team@example.org" in reason.text


def test_member_passes():
    """A member's post passes."""
    assert nonmember.nonmember(msgdata(compose(), member=member())) is None


def test_missing_sender_is_left_to_unparseable():
    """No usable From: is the unparseable rule's business, so a stranger policy never drops it."""
    assert nonmember.nonmember(msgdata(compose(sender="not an address"))) is None


def test_action_follows_the_list_setting():
    """action() is the list's nonmember_action."""
    for setting in ("hold", "reject", "discard", "accept"):
        assert nonmember.action(msgdata(compose(), mailing_list(nonmember_action=setting))) == setting
