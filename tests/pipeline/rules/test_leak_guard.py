"""The leak_guard rule on its own."""

from listserv.pipeline.msgdata import ACCEPT, HOLD
from listserv.pipeline.rules.leak_guard import SHOWN, action, leak_guard

from ..conftest import compose, mailing_list, msgdata


def test_confidential_post_with_outsiders_fires_naming_them():
    """A confidential post with outside To/Cc addresses gets the reason, which names them (at most SHOWN)."""
    outside = [f"x{n}@elsewhere.example" for n in range(SHOWN + 2)]
    reason = leak_guard(msgdata(compose(), confidential=True, outside=outside))
    assert reason.rule == "leak_guard" and f"{SHOWN + 2} addresses" in reason.text
    assert "x0@elsewhere.example" in reason.text and f"x{SHOWN}@" not in reason.text and reason.text.endswith("...")


def test_ordinary_or_inside_only_posts_pass():
    """An ordinary post with outsiders, or a confidential one without, passes."""
    assert leak_guard(msgdata(compose(), outside=["x@elsewhere.example"])) is None
    assert leak_guard(msgdata(compose(), confidential=True)) is None


def test_action_follows_the_list_setting():
    """leak_guard=hold holds; notify (the default) lets the post through (the notice is sent either way)."""
    assert action(msgdata(compose(), mailing_list(leak_guard="hold"))) == HOLD
    assert action(msgdata(compose(), mailing_list())) == ACCEPT
