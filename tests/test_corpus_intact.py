"""The copied corpus is whole and unchanged: every file its manifests list is present with the recorded sha256."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.conftest import CORPUS

LISTED = [
    (folder, name, entry["sha256"])
    for folder, key in (("bounces", "samples"), ("cpython-email", "files"))
    for name, entry in json.loads((CORPUS / folder / "manifest.json").read_text())[key].items()
]


@pytest.mark.parametrize("folder,name,sha256", LISTED, ids=[f"{f}/{n}" for f, n, _ in LISTED])
def test_corpus_file_is_as_published(folder, name, sha256):
    """A file an editor or a git setting changed would make the parsing tests prove nothing."""
    assert hashlib.sha256((CORPUS / folder / name).read_bytes()).hexdigest() == sha256


def test_both_folders_are_complete():
    """48 CPython messages and 59 bounces, as tests/data/corpus/README.md says."""
    assert sum(1 for f, _, _ in LISTED if f == "cpython-email") == 48
    assert sum(1 for f, _, _ in LISTED if f == "bounces") == 59
