"""Finding the configuration: no file means a refusal that says where it looked; `listserv init` writes one."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from listserv import config, init_config

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "config" / "listserv.toml"


@pytest.fixture
def elsewhere(tmp_path, monkeypatch) -> Path:
    """A working directory with no config/listserv.toml and no $LISTSERV_CONFIG: an owner in the wrong place."""
    monkeypatch.delenv("LISTSERV_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("args", [
    ("lists", "ls"), ("lists", "create", "team@example.org"), ("members", "ls", "team@example.org"),
    ("queue", "ls"), ("audit", "ls"), ("held", "ls"), ("serve",),
])
def test_without_a_configuration_every_command_refuses_and_creates_nothing(elsewhere, fails, args):
    """No --config, no $LISTSERV_CONFIG, no ./config/listserv.toml: exit 2, one line naming where it looked
    and how to get a configuration; no database appears in the working directory."""
    line = fails(invoke(*args), 2, "no configuration file: looked for", "listserv init")
    assert str(elsewhere / "config" / "listserv.toml") in line
    assert list(elsewhere.iterdir()) == []


def test_a_missing_file_named_by_the_environment_says_so(elsewhere, monkeypatch, fails):
    """$LISTSERV_CONFIG naming a missing file: exit 2, the line names the file and the variable."""
    monkeypatch.setenv("LISTSERV_CONFIG", str(elsewhere / "moved.toml"))
    fails(invoke("lists", "ls"), 2, f"configuration file not found: {elsewhere / 'moved.toml'}", "$LISTSERV_CONFIG")


def test_a_configuration_path_that_is_a_directory_is_refused(elsewhere, fails):
    """--config naming a directory: exit 2, one line saying it is not a file."""
    fails(invoke("--config", str(elsewhere), "lists", "ls"), 2, f"configuration file {elsewhere} is not a file")


def test_help_and_version_need_no_configuration(elsewhere):
    """Reading the help (of the root and of a command) works anywhere."""
    assert invoke("--help").exit_code == 0
    assert invoke("lists", "ls", "--help").exit_code == 0
    assert invoke("--version").exit_code == 0


def test_init_writes_the_commented_configuration_and_an_owner_only_data_directory(elsewhere):
    """`listserv init DIR`: DIR/config/listserv.toml is the shipped file, comments and all, with the database and
    outbox inside DIR/archives (absolute paths); DIR/archives is created 0700."""
    result = invoke("init", "site")
    assert result.exit_code == 0, result.stderr
    site = elsewhere / "site"
    written = (site / "config" / "listserv.toml").read_text()
    assert stat.S_IMODE((site / "archives").stat().st_mode) == 0o700
    loaded = config.load(site / "config" / "listserv.toml")
    assert loaded.storage.database == str(site / "archives" / "listserv.db")
    assert loaded.delivery.transport == f"maildir:{site / 'archives' / 'outbox'}"
    shipped = SHIPPED.read_text().splitlines()
    changed = [(old, new) for old, new in zip(shipped, written.splitlines()) if old != new]
    assert [old for old, _ in changed] == ['database = "archives/listserv.db"', 'transport = "maildir:archives/outbox"']
    assert len(written.splitlines()) == len(shipped)
    assert f"wrote {site / 'config' / 'listserv.toml'}" in result.stdout


def test_after_init_commands_work_in_dir_and_from_anywhere_with_the_variable(elsewhere, monkeypatch):
    """In DIR the default ./config/listserv.toml is found; elsewhere $LISTSERV_CONFIG finds the same database."""
    assert invoke("init", "site").exit_code == 0
    monkeypatch.chdir(elsewhere / "site")
    assert invoke("lists", "create", "team@example.org").exit_code == 0
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("LISTSERV_CONFIG", str(elsewhere / "site" / "config" / "listserv.toml"))
    listed = invoke("lists", "ls")
    assert listed.exit_code == 0 and "team@example.org" in listed.stdout
    assert (elsewhere / "site" / "archives" / "listserv.db").exists()


def test_init_without_dir_uses_the_working_directory(elsewhere):
    """`listserv init` alone sets up the current directory, so the next command there just works."""
    assert invoke("init").exit_code == 0
    assert (elsewhere / "config" / "listserv.toml").is_file() and (elsewhere / "archives").is_dir()
    assert invoke("lists", "ls").stdout == "no lists\n"


def test_init_never_overwrites_a_configuration(elsewhere, fails):
    """A second init (or one over an owner's file): exit 1, one line naming the file, the file unchanged."""
    assert invoke("init", "site").exit_code == 0
    target = elsewhere / "site" / "config" / "listserv.toml"
    target.write_text("# the owner's own settings\n")
    fails(invoke("init", "site"), 1, f"{target} exists already: not overwritten")
    assert target.read_text() == "# the owner's own settings\n"


def test_init_where_a_directory_cannot_be_made_exits_1(elsewhere, fails):
    """DIR/archives blocked by a file: exit 1, one line naming it, and no configuration written."""
    (elsewhere / "site").mkdir()
    (elsewhere / "site" / "archives").write_text("a file, not a directory")
    fails(invoke("init", "site"), 1, f"cannot create {elsewhere / 'site' / 'archives'}")
    assert not (elsewhere / "site" / "config").exists()


def test_the_packaged_template_is_the_shipped_configuration():
    """init's template (package data, for pip installs) is config/listserv.toml byte for byte: one text, two places.
    If this fails, copy config/listserv.toml to listserv/templates/listserv.toml."""
    assert init_config.template() == SHIPPED.read_text()


def test_the_repository_default_works_on_a_fresh_clone():
    """README's first `listserv serve` from the repository root: config/listserv.toml's database directory
    (archives/) is in the repository, kept by a tracked archives/.gitkeep that .gitignore lets through."""
    database = Path(tomllib.loads(SHIPPED.read_text())["storage"]["database"])
    assert (ROOT / database.parent / ".gitkeep").is_file()
    assert "!archives/.gitkeep" in (ROOT / ".gitignore").read_text().splitlines()


def test_init_refuses_a_directory_name_with_control_characters(elsewhere, fails):
    """A DIR with a newline cannot be written into the configuration as typed: exit 2, one line, nothing made."""
    fails(invoke("init", "site\nname"), 2, "has control characters")
    assert list(elsewhere.iterdir()) == []


def test_init_writes_quotes_and_backslashes_in_dir_so_the_file_reads_back(elsewhere):
    """A DIR named with a quote and a backslash: the configuration escapes them and loads to that very path."""
    assert invoke("init", 'we"ird\\dir').exit_code == 0
    site = elsewhere / 'we"ird\\dir'
    assert config.load(site / "config" / "listserv.toml").storage.database == str(site / "archives" / "listserv.db")
