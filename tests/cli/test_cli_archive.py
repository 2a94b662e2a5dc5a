"""`listserv archive ...` through click's CliRunner: output, --json, and every error path with its exit code."""

from __future__ import annotations

import json

import pytest

from tests.archive.test_mbox import as_mbox, post
from tests.conftest import mbox_messages

LIST = "team@example.org"
POSTS = [
    post("a1@x.org", "Looking for a psychologist", "2024-01-10T10:00", "Anyone know a trauma psychologist?"),
    post("a2@x.org", "Re: Looking for a psychologist", "2024-01-11T10:00", "Dr. Lane, trauma specialist.",
         sender="Bob <bob@example.org>", In_Reply_To="<a1@x.org>", References="<a1@x.org>"),
    post("a3@x.org", "[CONFIDENTIAL] Client history", "2024-01-12T10:00", "The client's juvenile trauma records."),
]


@pytest.fixture
def archive(listserv, tmp_path):
    """A list with three imported posts (one confidential) and a moderator; returns the mbox path."""
    assert listserv("lists", "create", LIST).exit_code == 0
    assert listserv("members", "add", LIST, "mod@example.org", "--role", "moderator").exit_code == 0
    path = tmp_path / "in.mbox"
    path.write_bytes(as_mbox(POSTS))
    result = listserv("archive", "import", LIST, str(path))
    assert result.exit_code == 0, result.stderr
    return path


def search(listserv, *args: str) -> list[dict]:
    result = listserv("archive", "search", LIST, *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_import_prints_a_summary_and_skipped_messages(listserv, tmp_path, archive):
    """A second import reports duplicates; malformed entries are listed with number and byte offset."""
    bad = tmp_path / "bad.mbox"
    bad.write_bytes(as_mbox(POSTS[:1] + [b"no headers here\n"]))
    result = listserv("archive", "import", LIST, str(bad))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("skipped message 2 at byte ") and lines[0].endswith("no header lines (a piece of another message?)")
    assert "imported 0 messages" in lines[1] and "skipped 1 duplicate and 1 malformed" in lines[1]
    assert "importing" in result.stderr  # the progress bar, on stderr


def test_search_json_has_the_contract_fields(listserv, archive):
    """--json rows carry id, message_id, thread_id, date, sender, subject, snippet; confidential posts are left out."""
    rows = search(listserv, "trauma")
    assert {row["message_id"] for row in rows} == {"a1@x.org", "a2@x.org"}
    assert set(rows[0]) >= {"id", "message_id", "thread_id", "date", "sender", "subject", "snippet"}
    assert rows[0]["date"].endswith("Z") and "**trauma**" in rows[0]["snippet"].lower()
    assert len({row["thread_id"] for row in rows}) == 1
    assert search(listserv, "-juvenile trauma", "--limit", "1")[0]["message_id"] in {"a1@x.org", "a2@x.org"}


def test_search_as_a_member_and_as_a_moderator(listserv, archive, fails):
    """--as an entitled member and --include-confidential --by a moderator find the confidential post."""
    assert listserv("members", "add", LIST, "bob@example.org").exit_code == 0
    assert {r["message_id"] for r in search(listserv, "juvenile", "--as", "bob@example.org")} == {"a3@x.org"}
    assert [r["confidential"] for r in search(listserv, "juvenile", "--include-confidential", "--by", "mod@example.org")] == [True]
    fails(listserv("archive", "search", LIST, "juvenile", "--as", "stranger@example.org"), 1, "not a member")
    fails(listserv("archive", "search", LIST, "juvenile", "--include-confidential"), 2, "--by")
    fails(listserv("archive", "search", LIST, "x", "--include-confidential", "--by", "bob@example.org"), 1, "moderator")


def test_search_table_output(listserv, archive):
    """Without --json: one line per post (id, date, thread, sender, subject) and its snippet below."""
    result = listserv("archive", "search", LIST, "psychologist", "--newest")
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and len(lines) == 4
    assert "bob@example.org" in lines[0] and "Re: Looking for a psychologist" in lines[0]
    assert lines[1].startswith("    ")
    assert listserv("archive", "search", LIST, "nothingmatchesthis").stdout == "no posts found\n"


@pytest.mark.parametrize("query, fragment", [
    ('"unclosed', "unclosed quote"), ("from:", "from: needs"), ("after:notadate", "YYYY-MM-DD"),
    ("OR", "OR needs"), ("sentenc*", "'*'"), ("-juvenile", "only exclusions"),
    ("Re: hello", 'use "Re: hello" in quotes'), ("https://example.org/x", 'use "https://example.org/x" in quotes'),
])
def test_a_bad_query_is_one_line_and_exit_2(listserv, archive, fails, query, fragment):
    """Malformed queries: one stderr line saying what is wrong, exit 2, nothing on stdout."""
    fails(listserv("archive", "search", LIST, query), 2, fragment)


def test_search_refusals(listserv, archive, fails):
    """Unknown list exit 1; a --limit out of range exit 2."""
    fails(listserv("archive", "search", "nope@example.org", "x"), 1, "no such list")
    fails(listserv("archive", "search", LIST, "x", "--limit", "0"), 2, "--limit")


def test_show_prints_headers_text_and_the_thread(listserv, archive):
    """show: headers, text; --json has the same; thread ID shows the tree indented."""
    (first,) = [r for r in search(listserv, "anyone") if r["message_id"] == "a1@x.org"]
    shown = listserv("archive", "show", str(first["id"]))
    assert shown.exit_code == 0
    assert "Subject: Looking for a psychologist" in shown.stdout and "Anyone know a trauma psychologist?" in shown.stdout
    data = json.loads(listserv("archive", "show", str(first["id"]), "--json").stdout)
    assert data["message_id"] == "a1@x.org" and data["headers"]["From"] == "ann@example.org"
    tree = listserv("archive", "thread", str(first["thread_id"])).stdout.splitlines()
    assert "Looking for a psychologist" in tree[0] and "2 posts" in tree[0]
    assert tree[1].startswith(f"{first['id']}  ") and tree[2].startswith("  ")
    as_json = json.loads(listserv("archive", "thread", str(first["thread_id"]), "--json").stdout)
    assert [(r["depth"], r["message_id"]) for r in as_json["tree"]] == [(0, "a1@x.org"), (1, "a2@x.org")]


def test_show_and_thread_refusals(listserv, archive, fails):
    """Unknown post or thread exit 1; a confidential post without a reader exit 1; a bad id exit 2."""
    fails(listserv("archive", "show", "999"), 1, "no archived post")
    fails(listserv("archive", "thread", "999"), 1, "no thread 999")
    fails(listserv("archive", "show", "0"), 2)
    secret = search(listserv, "juvenile", "--include-confidential", "--by", "mod@example.org")[0]["id"]
    fails(listserv("archive", "show", str(secret)), 1, "confidential")
    assert listserv("archive", "show", str(secret), "--include-confidential", "--by", "mod@example.org").exit_code == 0


def test_export_writes_an_mbox_and_refuses_to_overwrite(listserv, archive, tmp_path, fails):
    """export writes the public posts (mailbox.mbox reads them); the same file again is refused, exit 1."""
    out = tmp_path / "out.mbox"
    result = listserv("archive", "export", LIST, str(out))
    assert result.exit_code == 0 and "exported 2 messages" in result.stdout and "left out 1 confidential" in result.stdout
    assert [m["Message-ID"] for m in mbox_messages(out)] == ["<a1@x.org>", "<a2@x.org>"]
    fails(listserv("archive", "export", LIST, str(out)), 1, "exists already")
    full = tmp_path / "full.mbox"
    assert listserv("archive", "export", LIST, str(full), "--include-confidential", "--by", "mod@example.org").exit_code == 0
    assert len(mbox_messages(full)) == 3
    ranged = listserv("archive", "export", LIST, str(tmp_path / "r.mbox"), "--after", "2024-01-11", "--before", "2024-01-12")
    assert "exported 1 message to" in ranged.stdout


def test_export_and_import_usage_errors(listserv, archive, tmp_path, fails):
    """Bad dates, an empty date range, --include-confidential without --by: exit 2; unknown list exit 1;
    a missing import file or one that is not an mbox: exit 2."""
    out = str(tmp_path / "x.mbox")
    fails(listserv("archive", "export", LIST, out, "--after", "2024-13-01"), 2, "--after")
    fails(listserv("archive", "export", LIST, out, "--after", "2024-02-01", "--before", "2024-01-01"), 2, "not earlier")
    fails(listserv("archive", "export", LIST, out, "--include-confidential"), 2, "--by")
    fails(listserv("archive", "export", "nope@example.org", out), 1, "no such list")
    fails(listserv("archive", "import", LIST, str(tmp_path / "missing.mbox")), 2, "does not exist")
    (tmp_path / "one.eml").write_bytes(POSTS[0])
    fails(listserv("archive", "import", LIST, str(tmp_path / "one.eml")), 2, "not an mbox")
    fails(listserv("archive", "import", "nope@example.org", str(archive)), 1, "no such list")
    assert not (tmp_path / "x.mbox").exists()


def test_reindex_and_purge(listserv, archive, fails):
    """reindex rebuilds (all lists or one); purge reports per list; an unknown list is exit 1 for both."""
    result = listserv("archive", "reindex", LIST)
    assert result.exit_code == 0 and "full-text index rebuilt" in result.stdout
    assert search(listserv, "trauma")  # still searchable
    assert json.loads(listserv("archive", "purge", "--json").stdout) == [{"list": LIST, "archived": 0, "held": 0}]
    fails(listserv("archive", "reindex", "nope@example.org"), 1, "no such list")
    fails(listserv("archive", "purge", "nope@example.org"), 1, "no such list")
