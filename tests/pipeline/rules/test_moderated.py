"""The moderated rule on its own."""

from listserv.pipeline.rules.moderated import moderated

from ..conftest import compose, member, msgdata


def test_moderated_member_fires():
    """A member with the moderated flag gets the reason."""
    assert moderated(msgdata(compose(), member=member(moderated=True))).rule == "moderated"


def test_unmoderated_member_and_stranger_pass():
    """An ordinary member passes; a stranger is the nonmember rule's business."""
    assert moderated(msgdata(compose(), member=member())) is None
    assert moderated(msgdata(compose())) is None
