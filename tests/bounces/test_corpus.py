"""The real bounces of tests/data/corpus/bounces/: the addresses found match the expected ones (table-driven)."""

from __future__ import annotations

import pytest

from listserv import bounces
from listserv.pipeline.msgdata import BOUNCE, DISCARD, FORWARD
from listserv.store import audit, inbound, members
from tests.bounces.conftest import manifest, sample
from tests.bounces.helpers import BOUNCES, outcome_json, submit

SAMPLES = manifest()
TARGET = 0.95


def _expected(row: dict) -> tuple[set[str], set[str]]:
    """Upstream's expected (permanent, temporary), case-folded (domains compare case-insensitively)."""
    found = row["expected"] or {"permanent": [], "temporary": []}
    return {a.casefold() for a in found["permanent"]}, {a.casefold() for a in found["temporary"]}


def _table() -> list[tuple[str, bool, set[str], set[str]]]:
    """(file, matched, found permanent, found temporary) per sample with an upstream assertion."""
    rows = []
    for name, row in sorted(SAMPLES.items()):
        if row["expected"] is None:
            continue
        found = bounces.scan(sample(name))
        permanent, temporary = set(found.permanent), set(found.temporary)
        rows.append((name, (permanent, temporary) == _expected(row), permanent, temporary))
    return rows


def test_match_rate_is_at_least_95_percent():
    """scan() finds exactly upstream's permanent and temporary addresses for >= 95% of the corpus (printed)."""
    rows = _table()
    matched = sum(1 for _, ok, _, _ in rows if ok)
    print(f"\nbounce corpus: {matched}/{len(rows)} files match ({matched / len(rows):.1%})")
    for name, ok, permanent, temporary in rows:
        print(f"  {'ok  ' if ok else 'MISS'} {name:<22} permanent={sorted(permanent)} temporary={sorted(temporary)}")
    assert len(rows) >= 50
    assert matched / len(rows) >= TARGET


@pytest.mark.parametrize("name", sorted(SAMPLES))
async def test_each_bounce_through_the_pipeline_counts_its_members(store, settings, team, name):
    """Every corpus bounce to -bounces gets a decision; its expected permanent addresses, made members, score 1."""
    permanent, temporary = _expected(SAMPLES[name])
    for address in permanent | temporary:
        await store.write(members.add, team.id, {"address": address})
    outcome = await submit(store, settings, sample(name), rcpts=(BOUNCES,), mail_from="")
    word = outcome[BOUNCES]
    scores = {a: (await members.get(store.db, team.id, a)).bounce_score for a in permanent | temporary}
    if permanent:
        assert word == "recorded" and all(scores[a] == 1.0 for a in permanent)
    elif temporary:  # warnings are not counted
        assert word == "discarded" and not any(scores.values())
    else:  # nothing readable: the owners get it
        assert word == "forwarded"
    assert all(scores[a] == 0 for a in temporary - permanent)


def test_decision_names_are_the_pipelines():
    """The outcome words this test file expects belong to the BOUNCE, DISCARD and FORWARD decisions."""
    from listserv.pipeline.msgdata import OUTCOMES

    assert (OUTCOMES[BOUNCE], OUTCOMES[DISCARD], OUTCOMES[FORWARD]) == ("recorded", "discarded", "forwarded")


async def test_a_bounce_names_no_content_in_the_audit(store, settings, team):
    """The audit rows of a counted bounce name the member and the score, never the bounce's text."""
    await store.write(members.add, team.id, {"address": "zzzzz@example.uk"})
    await submit(store, settings, sample("dsn_02.txt"), rcpts=(BOUNCES,), mail_from="")
    entries = await audit.entries(store.db, team.id)
    details = " ".join(e["detail"] + e["object"] for e in entries)
    assert "member:zzzzz@example.uk" in details and "score 1.00" in details
    assert "Subject" not in details and "Diagnostic" not in details
    assert outcome_json((await inbound.get(store.db, 1))["outcome"]) == {BOUNCES: "recorded"}
