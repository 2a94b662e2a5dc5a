"""Every option or value that takes one of a fixed set of words refuses any other word: exit 2, one line."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from listserv import audit

PACKAGE = Path(__file__).resolve().parents[2] / "listserv"
LIST = "team@example.org"


@pytest.fixture
def team(listserv):
    assert listserv("lists", "create", LIST).exit_code == 0
    assert listserv("members", "add", LIST, "ann@example.org").exit_code == 0


@pytest.mark.parametrize("args, fragment", [
    (("audit", "ls", "--action", "nonsense"), "'nonsense' is not one of"),
    (("audit", "ls", LIST, "--action", "approved"), "'approved' is not one of"),
    (("lists", "create", "other@example.org", "--nonmember-action", "ignore"), "--nonmember-action"),
    (("members", "add", LIST, "bob@example.org", "--role", "admin"), "'admin' is not one of"),
    (("members", "add", LIST, "bob@example.org", "--delivery", "daily"), "'daily' is not one of"),
    (("lists", "set", LIST, "nonmember_action", "ignore"), "nonmember_action: expected one of"),
    (("lists", "set", LIST, "confidential_archive", "public"), "confidential_archive"),
    (("lists", "set", LIST, "colour", "red"), "unknown list setting 'colour'"),
    (("members", "set", LIST, "ann@example.org", "delivery", "daily"), "delivery: expected one of"),
    (("members", "set", LIST, "ann@example.org", "role", "admin"), "role"),
    (("members", "set", LIST, "ann@example.org", "colour", "red"), "unknown member setting 'colour'"),
], ids=lambda value: " ".join(value) if isinstance(value, tuple) else None)
def test_an_unknown_word_is_refused_not_silently_matched(listserv, team, fails, args, fragment):
    """A word outside the fixed set: exit 2 and one line, never an empty listing or a silent default."""
    fails(listserv(*args), 2, fragment)


def test_audit_action_is_case_insensitive_and_filters(listserv, team):
    """`--action HOLD` is the action hold: accepted, and only entries of that action are listed."""
    result = listserv("audit", "ls", "--action", "HOLD", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_audit_help_names_every_action(listserv):
    """`audit ls --help` lists the words --action takes."""
    shown = " ".join(listserv("audit", "ls", "--help").stdout.split())
    for action in audit.ACTIONS:
        assert action in shown


def _names(tree: ast.AST) -> dict[str, set[str]]:
    """Names assigned a string (READ = "...") or a lookup in a literal dict of strings ({...}[key]), with the
    strings they can hold."""
    names: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
            continue
        value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            names[node.targets[0].id] = {value.value}
        elif isinstance(value, ast.Subscript) and isinstance(value.value, ast.Dict):
            names[node.targets[0].id] = {item.value for item in value.value.values if isinstance(item, ast.Constant)}
    return names


def _recorded_actions() -> set[str]:
    """The ACTION of every audit.record(db, actor, ACTION, ...) call in the package."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        names = _names(tree)
        for node in ast.walk(tree):
            is_record = (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                         and node.func.attr == "record" and getattr(node.func.value, "id", "") == "audit")
            if not is_record or len(node.args) < 3:
                continue
            action = node.args[2]
            if isinstance(action, ast.Constant):
                found.add(action.value)
            else:
                assert isinstance(action, ast.Name) and action.id in names, f"{path}: an action this test cannot read"
                found |= names[action.id]
    return found


def test_every_action_the_code_records_can_be_asked_for():
    """Each action written to the audit log is one `audit ls --action` accepts (and each accepted one is written)."""
    recorded = _recorded_actions()
    assert recorded - set(audit.ACTIONS) == set(), "add these to listserv.audit.ACTIONS"
    assert set(audit.ACTIONS) - recorded == set(), "no code records these any more"
