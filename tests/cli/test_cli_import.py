"""`listserv members import LIST FILE.csv`: valid rows land, bad rows are reported by line, nothing doubles."""

from __future__ import annotations

import json

import pytest

LIST = "team@example.org"


def members(listserv) -> dict[str, dict]:
    return {m["address"]: m for m in json.loads(listserv("members", "ls", LIST, "--json").stdout)}


def write(tmp_path, text: str, name: str = "people.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_clean_file_with_header_imports_everyone(listserv, tmp_path):
    """A header row is skipped; names with commas and roles are kept; summary on stdout; exit 0."""
    listserv("lists", "create", LIST)
    csv = write(tmp_path, 'address,name,role\nann@example.org,"Lee, Ann",owner\nBob@Example.org,Bob\ncy@example.org\n')
    result = listserv("members", "import", LIST, csv)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "imported 3, already members 0, repeated in file 0, invalid 0\n"
    assert "importing 3 rows" in result.stderr  # the progress bar (label only when not a terminal)
    found = members(listserv)
    assert sorted(found) == ["ann@example.org", "bob@example.org", "cy@example.org"]
    assert found["ann@example.org"]["name"] == "Lee, Ann" and found["ann@example.org"]["role"] == "owner"
    assert found["bob@example.org"]["role"] == "member" and found["cy@example.org"]["name"] == ""


def test_file_without_header_and_with_bom(listserv, tmp_path):
    """A spreadsheet's UTF-8 byte-order mark and a missing header row are both fine."""
    listserv("lists", "create", LIST)
    csv = write(tmp_path, "\ufeffann@example.org,Ann\r\nbob@example.org,Bób\r\n")
    result = listserv("members", "import", LIST, csv)
    assert result.exit_code == 0, result.stderr
    assert members(listserv)["bob@example.org"]["name"] == "Bób"


def test_bad_rows_reported_by_line_valid_rows_still_imported(listserv, tmp_path):
    """Invalid rows: one error line each with its line number, exit 1; the valid rows are imported anyway."""
    listserv("lists", "create", LIST)
    csv = write(
        tmp_path,
        "address,name,role\n"          # line 1
        "ann@example.org,Ann\n"        # line 2
        "not-an-address,Nobody\n"      # line 3
        "\n"                           # line 4: blank, ignored
        "cy@example.org,Cy,admin\n"    # line 5: bad role
        "dee@example.org,Dee,member,x\n"  # line 6: too many fields
        "eve@example.org,Eve\n",       # line 7
    )
    result = listserv("members", "import", LIST, csv)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("listserv: error: ")]
    assert errors == [
        "listserv: error: line 3: bad address 'not-an-address': An email address must have an @-sign.",
        "listserv: error: line 5: role: expected one of member, moderator, owner, got 'admin'",
        "listserv: error: line 6: expected address,name[,role], got 4 fields",
    ]
    assert result.stdout == "imported 2, already members 0, repeated in file 0, invalid 3\n"
    assert sorted(members(listserv)) == ["ann@example.org", "eve@example.org"]


def test_duplicates_reported_not_doubled(listserv, tmp_path):
    """A repeat within the file and an existing member are reported, never doubled or overwritten."""
    listserv("lists", "create", LIST)
    listserv("members", "add", LIST, "ann@example.org", "--name", "Ann", "--role", "owner")
    csv = write(tmp_path, "ann@example.org,Someone Else,member\nbob@example.org,Bob\nBOB@example.org,Bobby,owner\n")
    result = listserv("members", "import", LIST, csv)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "line 3: bob@example.org already on line 2, skipped",
        "imported 1, already members 1, repeated in file 1, invalid 0",
    ]
    found = members(listserv)
    assert sorted(found) == ["ann@example.org", "bob@example.org"]
    assert found["ann@example.org"]["name"] == "Ann" and found["ann@example.org"]["role"] == "owner"
    assert found["bob@example.org"]["name"] == "Bob" and found["bob@example.org"]["role"] == "member"


def test_importing_twice_changes_nothing(listserv, tmp_path):
    """Re-running the same import counts everyone as already a member."""
    listserv("lists", "create", LIST)
    csv = write(tmp_path, "ann@example.org,Ann\nbob@example.org,Bob\n")
    listserv("members", "import", LIST, csv)
    again = listserv("members", "import", LIST, csv)
    assert again.exit_code == 0
    assert again.stdout == "imported 0, already members 2, repeated in file 0, invalid 0\n"
    assert len(members(listserv)) == 2


def test_unknown_list_exit_1(listserv, tmp_path, fails):
    """Importing into a list that does not exist: exit 1, one line, before any progress bar."""
    csv = write(tmp_path, "ann@example.org,Ann\n")
    fails(listserv("members", "import", "nope@example.org", csv), 1, "no such list: nope@example.org")


def test_missing_file_exit_2(listserv, tmp_path, fails):
    """A CSV file that does not exist is a usage error: exit 2, one line."""
    listserv("lists", "create", LIST)
    fails(listserv("members", "import", LIST, str(tmp_path / "missing.csv")), 2, "missing.csv")


def test_no_text_exit_2_nothing_imported(listserv, tmp_path, fails):
    """A file that is no text (NUL bytes: UTF-16 without its byte-order mark, a spreadsheet's binary file)
    or neither UTF-8 nor Windows-1252 is refused whole: exit 2."""
    listserv("lists", "create", LIST)
    csv = write(tmp_path, "ann@example.org,Ann\n", encoding="utf-16-le")
    fails(listserv("members", "import", LIST, csv), 2, "not a text file")
    undefined = tmp_path / "odd.csv"
    undefined.write_bytes(b"ann@example.org,Ann\x81\n")  # 0x81: invalid UTF-8, undefined in Windows-1252
    fails(listserv("members", "import", LIST, str(undefined)), 2, "not UTF-8 text", "nor Windows-1252")
    assert members(listserv) == {}


def test_excel_unicode_text_utf16_with_tabs(listserv, tmp_path):
    """Excel's "Unicode text": UTF-16 with its byte-order mark, tab-separated; names keep their accents."""
    listserv("lists", "create", LIST)
    csv = write(tmp_path, "address\tname\r\nzoe@example.org\tZoë Dupré\r\n", encoding="utf-16")
    result = listserv("members", "import", LIST, csv)
    assert result.exit_code == 0, result.stderr
    assert members(listserv)["zoe@example.org"]["name"] == "Zoë Dupré" and "note" not in result.stderr


def test_excel_windows_csv_is_read_as_windows_1252_with_a_note(listserv, tmp_path):
    """Excel's plain "CSV" on Windows (cp1252, semicolons): imported with the names right, and a note on
    stderr that the file was read as Windows-1252; stdout keeps only the summary."""
    listserv("lists", "create", LIST)
    csv = write(tmp_path, "Adresse;Name\r\nmm@example.org;Müller, Jörg\r\n", encoding="cp1252")
    result = listserv("members", "import", LIST, csv)
    assert result.exit_code == 0, result.stderr
    assert members(listserv)["mm@example.org"]["name"] == "Müller, Jörg"
    assert f"listserv: note: {csv} is not UTF-8: read as Windows-1252" in result.stderr
    assert result.stdout == "imported 1, already members 0, repeated in file 0, invalid 0\n"


def test_broken_quoting_exit_2_nothing_imported(listserv, tmp_path, fails):
    """An unclosed quote makes the rows after it untrustworthy: the file is refused whole, naming the line."""
    listserv("lists", "create", LIST)
    csv = write(tmp_path, 'ann@example.org,Ann\nbob@example.org,"Bob\ncy@example.org,Cy\n')
    fails(listserv("members", "import", LIST, csv), 2, "line 3", "nothing imported")
    assert members(listserv) == {}


def test_empty_file(listserv, tmp_path):
    """An empty file imports nothing and says so."""
    listserv("lists", "create", LIST)
    result = listserv("members", "import", LIST, write(tmp_path, ""))
    assert result.exit_code == 0
    assert result.stdout == "imported 0, already members 0, repeated in file 0, invalid 0\n"


def test_list_addresses_are_row_errors_the_rest_imports(listserv, tmp_path):
    """Rows naming any list's address (own, another list's, any sub-address) are errors by line; good rows land."""
    listserv("lists", "create", LIST)
    listserv("lists", "create", "other@lists.example.net")
    csv = write(
        tmp_path,
        "ann@example.org,Ann\n"                        # line 1
        "Team@Example.org,Loop\n"                      # line 2
        "team-bounces+x=example.com@example.org,B\n"   # line 3
        "other-request@lists.example.net,O\n"          # line 4
        "team+confidential@example.org,C\n"            # line 5
        "bob@example.org,Bob\n",                       # line 6
    )
    result = listserv("members", "import", LIST, csv)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("listserv: error: ")]
    assert errors == [
        f"listserv: error: line {n}: {address} is an address of the list {owner} and cannot be a member of a list"
        for n, address, owner in [
            (2, "team@example.org", LIST), (3, "team-bounces+x=example.com@example.org", LIST),
            (4, "other-request@lists.example.net", "other@lists.example.net"),
            (5, "team+confidential@example.org", LIST),
        ]
    ]
    assert result.stdout == "imported 2, already members 0, repeated in file 0, invalid 4\n"
    assert sorted(members(listserv)) == ["ann@example.org", "bob@example.org"]


def test_excel_semicolon_file_with_bom_and_header(listserv, tmp_path):
    """Excel's "CSV (semicolon)": BOM, header row, CRLF, names with unquoted commas: every field in its place."""
    listserv("lists", "create", LIST)
    csv = write(tmp_path, "\ufeffAddress;Name;Role\r\nann@example.org;Lee, Ann;owner\r\nbob@example.org;Bob\r\n")
    result = listserv("members", "import", LIST, csv)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "imported 2, already members 0, repeated in file 0, invalid 0\n"
    found = members(listserv)
    assert (found["ann@example.org"]["name"], found["ann@example.org"]["role"]) == ("Lee, Ann", "owner")
    assert (found["bob@example.org"]["name"], found["bob@example.org"]["role"]) == ("Bob", "member")


@pytest.mark.parametrize("text", [
    "ann@example.org;Ann\nbob@example.org;Bob, Jr.\n",                  # semicolons, no header
    '"ann@example.org";"Ann"\n"bob@example.org";"Bob, Jr."\n',          # semicolons, every field quoted
    "ann@example.org\tAnn\nbob@example.org\tBob, Jr.\n",                # tabs ("Unicode text")
    "sep=;\nann@example.org;Ann\nbob@example.org;Bob, Jr.\n",           # Excel's separator hint
    'email,name\nann@example.org,Ann\nbob@example.org,"Bob, Jr."\n',    # commas, as before
])
def test_separator_is_found_from_the_first_row(listserv, tmp_path, text):
    """Comma, semicolon or tab, header or not, quoted or not, Excel's sep= line: the same two members."""
    listserv("lists", "create", LIST)
    result = listserv("members", "import", LIST, write(tmp_path, text))
    assert result.exit_code == 0, result.stderr
    assert {address: m["name"] for address, m in members(listserv).items()} == {
        "ann@example.org": "Ann", "bob@example.org": "Bob, Jr."}


def test_semicolon_file_with_bad_rows_imports_the_good_ones_and_exits_1(listserv, tmp_path):
    """README's promise in a semicolon file: each bad row is one error line naming its line, the rest are
    imported, exit 1; a one-column file needs no separator at all."""
    listserv("lists", "create", LIST)
    text = "sep=;\naddress;name\nann@example.org;Ann\nnobody;Nobody\ncy@example.org;Cy;boss\ndee@example.org\n"
    result = listserv("members", "import", LIST, write(tmp_path, text))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-2:] == [
        "listserv: error: line 4: bad address 'nobody': An email address must have an @-sign.",
        "listserv: error: line 5: role: expected one of member, moderator, owner, got 'boss'",
    ]
    assert result.stdout == "imported 2, already members 0, repeated in file 0, invalid 2\n"
    assert sorted(members(listserv)) == ["ann@example.org", "dee@example.org"]
    single = listserv("members", "import", LIST, write(tmp_path, "eve@example.org\nfay@example.org\n", "one.csv"))
    assert single.exit_code == 0 and "imported 2," in single.stdout


def test_separator_comes_from_the_first_row_with_several_fields(listserv, tmp_path):
    """Rows with an address alone say nothing about the separator: the first row with a name decides."""
    listserv("lists", "create", LIST)
    result = listserv("members", "import", LIST, write(tmp_path, "ann@example.org\nbob@example.org;Bob, Jr.\n"))
    assert result.exit_code == 0, result.stderr
    assert {address: m["name"] for address, m in members(listserv).items()} == {
        "ann@example.org": "", "bob@example.org": "Bob, Jr."}


def test_a_file_of_bad_rows_only_imports_nothing_and_exits_1(listserv, tmp_path):
    """Every row bad: each reported, nothing imported, the summary says so, exit 1."""
    listserv("lists", "create", LIST)
    result = listserv("members", "import", LIST, write(tmp_path, "Email;Name\nnobody;Nobody\nann@;Ann\n"))
    assert result.exit_code == 1
    assert [line.split(":")[2] for line in result.stderr.splitlines() if "error" in line] == [" line 2", " line 3"]
    assert result.stdout == "imported 0, already members 0, repeated in file 0, invalid 2\n"
    assert members(listserv) == {}
