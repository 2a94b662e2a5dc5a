"""Fixtures for the bounce tests: the team list on a real store, and corpus bounce messages."""

from __future__ import annotations

import json

import pytest

from tests.bounces.helpers import make_team
from tests.conftest import CORPUS

BOUNCE_DIR = CORPUS / "bounces"


def manifest() -> dict:
    """samples[file] of the bounce corpus manifest ({} when the shared corpus is absent)."""
    path = BOUNCE_DIR / "manifest.json"
    return json.loads(path.read_text())["samples"] if path.exists() else {}


def sample(name: str) -> bytes:
    return (BOUNCE_DIR / name).read_bytes()


@pytest.fixture
async def team(store):
    return await make_team(store)
