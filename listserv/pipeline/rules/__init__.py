"""The rules: one module per rule, each a predicate over MsgData that returns a Reason or None.

evaluate() turns a table of (rule, action) pairs into one Decision: a rule
whose action is reject or discard ends the evaluation; every hold-worthy rule
runs, and the post is held once with all of their reasons.
"""

from __future__ import annotations

import logging
from typing import Callable, Sequence, Union

from listserv.pipeline.msgdata import ACCEPT, DISCARD, HOLD, REJECT, Decision, MsgData, Reason, fault

log = logging.getLogger(__name__)

Rule = Callable[[MsgData], Union[Reason, None]]
Action = Union[str, Callable[[MsgData], str]]


def evaluate(data: MsgData, table: Sequence[tuple[Rule, Action]]) -> Decision:
    """Run the rules in order; a failing rule is itself a reason to hold (its name and error type)."""
    holds: list[Reason] = list(data.reasons)
    for rule, action in table:
        try:
            reason = rule(data)
            act = action(data) if callable(action) else action
        except Exception as exc:  # a bug in one rule must not lose the post: hold it with the fault named
            log.error("rule %s failed on inbound %s: %s", rule.__name__, data.inbound_id, fault(exc))
            holds.append(Reason(rule.__name__, f"rule {rule.__name__} failed: {type(exc).__name__}"))
            continue
        if reason is None or act == ACCEPT:
            continue
        if act in (REJECT, DISCARD):
            return Decision(act, (reason,))
        holds.append(reason)
    return Decision(HOLD, tuple(holds)) if holds else Decision(ACCEPT)
