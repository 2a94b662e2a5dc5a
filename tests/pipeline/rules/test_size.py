"""The size rule on its own."""

from listserv.pipeline.rules.size import size

from ..conftest import compose, mailing_list, msgdata


def test_larger_than_limit_fires_with_both_sizes():
    """A post over max_message_size fires, naming its size and the limit."""
    raw = compose(body="x" * 500)
    reason = size(msgdata(raw, mailing_list(max_message_size=100)))
    assert reason.rule == "size" and str(len(raw)) in reason.text and "100" in reason.text


def test_at_limit_or_without_limit_passes():
    """Exactly the limit passes, and 0 means no limit."""
    raw = compose()
    assert size(msgdata(raw, mailing_list(max_message_size=len(raw)))) is None
    assert size(msgdata(raw * 100, mailing_list(max_message_size=0))) is None
