"""Counts are said in the right number everywhere: one helper, output.plural, and no "post(s)" left in the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from listserv.output import plural

ROOT = Path(__file__).resolve().parents[1]
HEDGED = re.compile(r"[a-z]\((e?s)\)")  # "post(s)", "address(es)": a count the message would not commit to


def message_texts(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string in a module that can reach a person, i.e. every one but docstrings."""
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


@pytest.mark.parametrize("count, noun, expected", [
    (0, "post", "0 posts"), (1, "post", "1 post"), (2, "post", "2 posts"), (1, "batch", "1 batch"),
    (3, "batch", "3 batches"), (1, "address", "1 address"), (2, "address", "2 addresses"),
    (1, "digest member", "1 digest member"), (2, "held message", "2 held messages"),
])
def test_plural(count, noun, expected):
    """One is singular; zero and many are plural, with -es after s, x, ch and sh."""
    assert plural(count, noun) == expected


def test_no_message_hedges_its_number():
    """No string in the package or the CLI says "post(s)" or "address(es)": messages count with plural()."""
    sources = [ROOT / "cli.py", *sorted((ROOT / "listserv").rglob("*.py"))]
    hedged = [f"{path.relative_to(ROOT)}:{line}: {text!r}" for path in sources
              for line, text in message_texts(path) if HEDGED.search(text)]
    assert hedged == []
