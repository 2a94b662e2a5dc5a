"""Deciding from the rules table: discards end it, holds are collected, a failing rule holds."""

from listserv.pipeline import RULES
from listserv.pipeline.msgdata import Reason
from listserv.pipeline.rules import evaluate

from ..conftest import compose, mailing_list, member, msgdata


def _fires(name):
    def rule(data):
        return Reason(name, f"{name} fired")

    rule.__name__ = name
    return rule


def test_all_hold_reasons_come_together():
    """Every hold-worthy rule runs: one hold with all reasons, in table order."""
    decision = evaluate(msgdata(compose()), ((_fires("a"), "hold"), (_fires("b"), "hold")))
    assert decision.action == "hold" and [r.rule for r in decision.reasons] == ["a", "b"]


def test_discard_ends_the_decision():
    """A discard rule short-circuits even after hold reasons were found."""
    decision = evaluate(msgdata(compose()), ((_fires("a"), "hold"), (_fires("d"), "discard"), (_fires("b"), "hold")))
    assert decision.action == "discard" and [r.rule for r in decision.reasons] == ["d"]


def test_failing_rule_holds_naming_it():
    """A rule that raises becomes a hold reason with its name and the exception type."""

    def broken(data):
        raise ZeroDivisionError

    decision = evaluate(msgdata(compose()), ((broken, "discard"),))
    assert decision.action == "hold" and decision.reasons[0].text == "rule broken failed: ZeroDivisionError"


def test_real_table_accepts_a_member_and_holds_with_every_reason():
    """The shipped RULES accept a member's post and hold a stranger's oversize post with both reasons."""
    assert evaluate(msgdata(compose(), member=member()), RULES).action == "accept"
    stranger = msgdata(compose(sender="x@elsewhere.example", body="y" * 300), mailing_list(max_message_size=100))
    decision = evaluate(stranger, RULES)
    assert decision.action == "hold" and [r.rule for r in decision.reasons] == ["nonmember", "size"]


def test_nonmember_accept_means_no_reason():
    """nonmember_action accept lets a stranger's post through."""
    data = msgdata(compose(sender="x@elsewhere.example"), mailing_list(nonmember_action="accept"))
    assert evaluate(data, RULES).action == "accept"
