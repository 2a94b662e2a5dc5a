"""The duplicate rule on its own."""

from listserv.pipeline.rules.duplicate import duplicate

from ..conftest import compose, msgdata


def test_archived_message_id_is_a_duplicate():
    """A Message-ID already in this list's archive fires the rule, naming the id."""
    reason = duplicate(msgdata(compose(), already_archived=True))
    assert reason.rule == "duplicate" and "<post-1@example.org>" in reason.text


def test_new_message_id_is_not_a_duplicate():
    """A Message-ID the archive does not have passes."""
    assert duplicate(msgdata(compose())) is None
