"""`members import` benchmark: a spreadsheet's worth of members, comma and semicolon files, as an owner runs it.

Usage: python bench/members_csv.py [--count 10000] [--runs 3]

Each run writes the same `count` members twice, once as a comma CSV with a
header and once as Excel's semicolon file (byte-order mark, CRLF, names with
unquoted commas), and imports each into a fresh list of a fresh database with
the real command (`listserv --config F members import LIST FILE`, a
subprocess, interpreter start included). Reading and splitting the file
alone (listserv.member_csv.read_csv) is timed too, so that the separator
sniffing shows apart from the checking and the write. Prints `name value unit`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from listserv import member_csv  # noqa: E402

LIST = "bench@example.net"


def write_members(path: Path, count: int, separator: str) -> Path:
    """count rows address<sep>name<sep>role; the semicolon file as Excel writes it."""
    excel = separator == ";"
    newline, start = ("\r\n", "\ufeff") if excel else ("\n", "")
    rows = [separator.join(("address", "name", "role"))]
    for n in range(count):
        name = f"Lee, Ann {n}" if excel else f'"Lee, Ann {n}"'
        rows.append(separator.join((f"member{n}@example.org", name, "member")))
    path.write_text(start + newline.join(rows) + newline, encoding="utf-8")
    return path


def cli(config_file: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "import cli; cli.main()", "--config", str(config_file), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)


def one_run(count: int, separator: str) -> tuple[float, float]:
    """(seconds for read_csv alone, seconds for the whole `members import` process) on a fresh database."""
    with tempfile.TemporaryDirectory(prefix="listserv-members-") as directory:
        where = Path(directory)
        config_file = where / "listserv.toml"
        config_file.write_text(f'[storage]\ndatabase = "{where / "db.sqlite"}"\n')
        people = write_members(where / "people.csv", count, separator)
        started = time.perf_counter()
        rows = member_csv.read_csv(people)
        parsed = time.perf_counter() - started
        assert len(rows) == count and rows[0][1][1] == "Lee, Ann 0", rows[0]
        cli(config_file, "lists", "create", LIST)
        started = time.perf_counter()
        done = cli(config_file, "members", "import", LIST, str(people))
        imported = time.perf_counter() - started
        assert done.stdout.startswith(f"imported {count},"), done.stdout
        return parsed, imported


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for label, separator in (("comma", ","), ("semicolon", ";")):
        results = [one_run(args.count, separator) for _ in range(args.runs)]
        parse_ms = statistics.median(parsed for parsed, _ in results) * 1000
        import_s = statistics.median(imported for _, imported in results)
        print(f"members_csv_read_{label}_{args.count}_ms {parse_ms:.1f} ms")
        print(f"members_import_{label}_{args.count}_s {import_s:.2f} s")


if __name__ == "__main__":
    main()
