"""Archive search against a real SQLite store: every operator, ranking, folding, confidentiality and bad input."""

from __future__ import annotations

import random
import sqlite3

import pytest

from listserv.archive.query import MAX_TERMS, Query, Text
from listserv.archive.search import search
from listserv.errors import BadQuery
from tests.archive.test_query import MALFORMED


async def found(archive, query: str, **options) -> list[int]:
    return [row["id"] for row in await search(archive.store.db, archive.list_id, query, **options)]


async def test_words_must_all_match(archive):
    """Several words: a post must contain every one of them (AND), in any order and column."""
    both = await archive.add("The school records arrived.")
    await archive.add("The school called.")
    await archive.add("Records are missing.")
    in_subject = await archive.add("Records are here.", subject="school visit")
    assert sorted(await found(archive, "records school")) == sorted([both, in_subject])


async def test_phrase_needs_the_words_together_in_order(archive):
    """"school records" finds the words side by side and in order; the bare words find more."""
    phrase = await archive.add("We got the school records today.")
    apart = await archive.add("The records of the school are sealed.")
    assert await found(archive, '"school records"') == [phrase]
    assert sorted(await found(archive, "school records")) == sorted([phrase, apart])


async def test_exclusion_leaves_out_posts_with_the_word(archive):
    """-word and -"phrase" remove posts containing them from the results."""
    adult = await archive.add("Sentencing memo for an adult client.")
    await archive.add("Sentencing of a juvenile client.")
    await archive.add("Sentencing and school records of the client.")
    assert await found(archive, 'sentencing -juvenile -"school records"') == [adult]


async def test_or_matches_either_word(archive):
    """a OR b finds posts with either; OR binds tighter than the implied AND."""
    daubert = await archive.add("A daubert hearing on the expert.")
    deposition = await archive.add("The expert deposition is Monday.")
    await archive.add("The expert sent an invoice.")
    await archive.add("A deposition without the witness.")
    assert sorted(await found(archive, "daubert OR deposition")) == sorted([daubert, deposition, daubert + 3])
    assert sorted(await found(archive, "expert daubert OR deposition")) == sorted([daubert, deposition])


async def test_from_by_name_address_and_domain(archive):
    """from: takes part of a display name (accents folded), a whole address, or @domain."""
    jose = await archive.add("Report attached.", sender="jose.nunez@fd.org", sender_name="José Núñez")
    ann = await archive.add("Report attached.", sender="ann@example.org", sender_name="Ann Lee")
    joseph = await archive.add("Report attached.", sender="joseph@example.org", sender_name="Joseph Ray")
    assert await found(archive, "from:jose") == [jose]
    assert await found(archive, 'from:"José Núñez" report') == [jose]
    assert await found(archive, "from:lee") == [ann]
    assert await found(archive, "from:ANN@example.org") == [ann]
    assert await found(archive, "from:nn@example.org") == []  # an address must match whole, not a suffix
    assert sorted(await found(archive, "from:@example.org")) == sorted([ann, joseph])
    assert await found(archive, "from:joseph@") == [joseph]


async def test_subject_operator_searches_the_subject_only(archive):
    """subject:word and subject:"phrase" look at the subject, not the body."""
    in_subject = await archive.add("Please help.", subject="Expert witness in Texas")
    await archive.add("I need an expert witness.", subject="Help")
    assert await found(archive, "subject:expert") == [in_subject]
    assert await found(archive, 'subject:"expert witness" texas') == [in_subject]
    assert await found(archive, 'subject:"witness expert"') == []


async def test_date_range_after_is_inclusive_before_is_exclusive(archive):
    """after:D keeps posts from 00:00 UTC of D on; before:D keeps posts before 00:00 UTC of D."""
    ids = {}
    for when in ("2023-12-31T23:59", "2024-01-01T00:00", "2024-01-31T23:59", "2024-02-01T00:00"):
        ids[when] = await archive.add("monthly report", when=when)
    january = await found(archive, "report after:2024-01-01 before:2024-02-01")
    assert sorted(january) == sorted([ids["2024-01-01T00:00"], ids["2024-01-31T23:59"]])
    assert await found(archive, "after:2024-02-01") == [ids["2024-02-01T00:00"]]
    assert await found(archive, "before:2024-01-01") == [ids["2023-12-31T23:59"]]


async def test_has_attachment_and_thread_filters(archive):
    """has:attachment keeps posts with attachments; thread:ID keeps the posts of that thread."""
    with_file = await archive.add("see the cv", attachments="cv.pdf", thread_id=7)
    without = await archive.add("see the cv inline", thread_id=7)
    await archive.add("another cv", thread_id=8)
    assert await found(archive, "cv has:attachment") == [with_file]
    assert await found(archive, "has:attachment") == [with_file]
    assert sorted(await found(archive, "cv thread:7")) == sorted([with_file, without])
    assert sorted(await found(archive, "thread:7")) == sorted([with_file, without])
    assert await found(archive, "thread:9") == []


async def test_subject_match_ranks_above_body_only_match(archive):
    """bm25 weighs the subject above the body: the post about the topic comes first even when older."""
    in_subject = await archive.add("Any ideas welcome.", subject="Neuropsychologist in Ohio", when="2020-01-01")
    await archive.add("Unrelated first line. We might call a neuropsychologist later.", subject="Budget",
                      when="2024-01-01")
    results = await found(archive, "neuropsychologist")
    assert results[0] == in_subject and len(results) == 2


async def test_equal_scores_are_broken_by_recency(archive):
    """Posts that score the same come newest first, whatever order they were archived in."""
    middle = await archive.add("Identical text about mitigation.", when="2022-06-01")
    newest = await archive.add("Identical text about mitigation.", when="2024-06-01")
    oldest = await archive.add("Identical text about mitigation.", when="2019-06-01")
    assert await found(archive, "mitigation") == [newest, middle, oldest]


async def test_date_order_is_newest_first(archive):
    """order='date' returns matches by Date: header, newest first, regardless of relevance."""
    old = await archive.add("trauma trauma trauma", subject="trauma", when="2019-01-01")
    new = await archive.add("a note on trauma", when="2024-01-01")
    mid = await archive.add("trauma", when="2021-01-01")
    assert await found(archive, "trauma", order="date") == [new, mid, old]


async def test_diacritics_and_case_are_folded(archive):
    """cafe finds café and CAFÉ finds cafe; Zoë is found as zoe."""
    accented = await archive.add("Meet at the Café Zoë.")
    plain = await archive.add("The cafe is closed.")
    assert sorted(await found(archive, "cafe")) == sorted([accented, plain])
    assert sorted(await found(archive, "CAFÉ")) == sorted([accented, plain])
    assert await found(archive, "zoe") == [accented]


async def test_english_stemming(archive):
    """Porter stemming: sentences, sentencing and sentenced find each other; evaluations finds evaluation."""
    one = await archive.add("The sentence was reduced.")
    two = await archive.add("She was sentenced in May.")
    three = await archive.add("The evaluation is done.")
    assert sorted(await found(archive, "sentences")) == [one, two]
    assert sorted(await found(archive, "sentencing")) == [one, two]
    assert await found(archive, "evaluations") == [three]
    assert await found(archive, "evaluate") == [three]


async def test_quoted_lines_and_signatures_do_not_match(archive):
    """A reply that quotes a word, or a signature that contains it, is not a match for that word."""
    original = await archive.add("Has anyone used a zygosity expert?")
    await archive.add("On Mon, Ann wrote:\n> Has anyone used a zygosity expert?\n\nNo, sorry.")
    await archive.add("Call me.\n-- \nBob, zygosity consultant")
    assert await found(archive, "zygosity") == [original]


async def test_confidential_posts_are_excluded_unless_asked(archive):
    """Confidential posts never appear by default; include_confidential=True lets the caller see them."""
    open_post = await archive.add("case records question")
    secret = await archive.add("case records of my client", confidential=True)
    assert await found(archive, "records") == [open_post]
    assert await found(archive, "records", order="date") == [open_post]
    assert await found(archive, "after:2000-01-01") == [open_post]
    assert sorted(await found(archive, "records", include_confidential=True)) == sorted([open_post, secret])


async def test_other_lists_posts_are_never_returned(archive):
    """A search covers one list: the same words in another list's archive are not found."""
    ours = await archive.add("mitigation records")
    other = await archive.other_list()
    await other.add("mitigation records")
    assert await found(archive, "mitigation") == [ours]
    assert await found(archive, "mitigation", order="date") == [ours]
    assert await found(archive, "after:2000-01-01") == [ours]


async def test_result_fields_and_highlighted_one_line_snippet(archive):
    """A result carries the contract's fields and a one-line snippet with the matches marked **so**."""
    post = await archive.add("First line.\nThe school records\narrived today.", subject="Records",
                             sender="ann@example.org", sender_name="Ann Lee", thread_id=3,
                             message_id="abc@example.org")
    (row,) = await search(archive.store.db, archive.list_id, "records")
    assert row == {
        "id": post, "message_id": "abc@example.org", "thread_id": 3, "date": row["date"],
        "sender": "ann@example.org", "sender_name": "Ann Lee", "subject": "Records",
        "snippet": "First line. The school **records** arrived today.",
    }


async def test_filter_only_query_shows_the_opening_of_each_post(archive):
    """A query without words (dates, thread) has nothing to mark: the snippet is the post's opening, cut at a word."""
    await archive.add("word " * 100, when="2024-05-01")
    (row,) = await search(archive.store.db, archive.list_id, "after:2024-01-01")
    assert row["snippet"].startswith("word word") and row["snippet"].endswith(" …") and len(row["snippet"]) < 170


async def test_exclusion_with_only_filters(archive):
    """-word next to a filter is applied too: no words to find, but the excluded ones still leave posts out."""
    kept = await archive.add("a draft-free post", when="2024-02-01")
    await archive.add("the final draft", when="2024-02-02")
    await archive.add("older", when="2023-02-02")
    assert await found(archive, "after:2024-01-01 -final") == [kept]


async def test_limit_caps_the_results(archive):
    """limit is the most results returned, best first."""
    for n in range(5):
        await archive.add(f"records {n}")
    assert len(await found(archive, "records", limit=3)) == 3
    assert len(await found(archive, "records", limit=3, order="date")) == 3


async def test_an_empty_query_object_is_refused(archive):
    """A Query built in code with no term and no filter is refused, never answered with the whole archive."""
    await archive.add("anything")
    with pytest.raises(BadQuery, match="would match every post"):
        await search(archive.store.db, archive.list_id, Query(exclude=(Text("x"),)))


@pytest.mark.parametrize("options, message", [
    ({"order": "relevance"}, "order must be 'rank' or 'date', not 'relevance'"),
    ({"limit": 0}, "limit must be between 1 and 1000, not 0"),
    ({"limit": 1001}, "limit must be between 1 and 1000, not 1001"),
])
async def test_bad_search_arguments(archive, options, message):
    """A bad order or limit is a BadQuery with a clear message, not a database error."""
    with pytest.raises(BadQuery, match=message):
        await search(archive.store.db, archive.list_id, "records", **options)


@pytest.mark.parametrize("text, message", MALFORMED)
async def test_malformed_queries_fail_before_the_database(archive, text, message):
    """Every malformed query of the parser's table is a BadQuery from search() too, never a sqlite3 error."""
    await archive.add("anything at all")
    with pytest.raises(BadQuery) as raised:
        await search(archive.store.db, archive.list_id, text)
    assert message in str(raised.value)


SYNTAX_AS_TEXT = [
    # FTS5 syntax typed inside quotes is plain text: query, whether the post "NEAR (a) b: c* ^d {e} +f" matches
    ('"NEAR(a"', True),
    ('"c*"', True),
    ('"^d"', True),
    ('"{e}"', True),
    ('"b: c"', True),
    ('"+f"', True),
    ("+f", True),
    ('"a) b"', True),
    ('"col:umn"', False),
    ('"AND"', False),
    ('"OR"', False),
    ('"NOT"', False),
    ('subject:"x OR y"', False),
    ('"*"', None),  # nothing left to search for: BadQuery
    ('"()"', None),
]


@pytest.mark.parametrize("text, matches", SYNTAX_AS_TEXT)
async def test_fts_syntax_in_quotes_is_literal_text(archive, text, matches):
    """FTS5 operators and characters inside quotes never act as syntax or reach SQLite unquoted."""
    post = await archive.add("NEAR (a) b: c* ^d {e} +f")
    if matches is None:
        with pytest.raises(BadQuery, match="nothing to search for"):
            await found(archive, text)
        return
    assert await found(archive, text) == ([post] if matches else [])


async def test_hostile_queries_never_reach_sqlite_as_syntax(archive):
    """Random strings made of syntax characters either give BadQuery or run: never a sqlite3 error."""
    await archive.add("alpha beta gamma (delta) e:f")
    rng = random.Random(11)
    alphabet = list('ab "-:*^()+{}') + ["OR ", "NEAR", "AND ", "NOT ", "subject:", "from:", "after:", "thread:"]
    alphabet += ["alpha ", "beta ", "e:f ", '"delta" ', "gamma"] * 3
    ran = 0
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
        for order in ("rank", "date"):
            try:
                await search(archive.store.db, archive.list_id, text, order=order)
                ran += 1
            except BadQuery:
                pass
            except sqlite3.Error as exc:  # the failure this test exists to catch
                pytest.fail(f"{text!r} reached SQLite as syntax: {exc}")
    assert ran > 100  # enough of them were valid to exercise the database


async def test_many_terms_up_to_the_limit_still_run(archive):
    """A query at the term limit runs (the limit bounds work, it does not break long questions)."""
    post = await archive.add(" ".join(f"w{n}" for n in range(MAX_TERMS)))
    assert await found(archive, " ".join(f"w{n}" for n in range(MAX_TERMS))) == [post]
