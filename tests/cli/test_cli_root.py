"""The root of the CLI: configuration lookup, first use on a fresh checkout, and the error contract."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli import main


def test_help_lists_every_command_group():
    """`listserv --help` exits 0 and names serve, lists, members, held and queue."""
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "lists", "members", "held", "queue"):
        assert command in result.stdout


def test_bare_listserv_shows_help_and_exits_2():
    """`listserv` without a command shows the help on stderr and exits 2 (bad usage)."""
    result = CliRunner().invoke(main, [])
    assert result.exit_code == 2
    assert "Commands:" in result.stderr
    assert result.stdout == ""


def test_first_use_creates_and_migrates_the_database_in_its_existing_directory(tmp_path):
    """`lists ls` on a configuration whose database does not exist yet creates and migrates it."""
    database = tmp_path / "data" / "listserv.db"
    database.parent.mkdir()
    config_file = tmp_path / "fresh.toml"
    config_file.write_text(f'[storage]\ndatabase = "{database}"\n')
    result = CliRunner().invoke(main, ["--config", str(config_file), "lists", "ls", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert database.exists()


def test_a_missing_database_directory_is_refused_not_created(tmp_path, fails):
    """A configured database whose directory does not exist: exit 1, one line naming the directory, nothing made."""
    database = tmp_path / "not" / "yet" / "listserv.db"
    config_file = tmp_path / "fresh.toml"
    config_file.write_text(f'[storage]\ndatabase = "{database}"\n')
    result = CliRunner().invoke(main, ["--config", str(config_file), "lists", "ls"])
    fails(result, 1, f"the database directory {tmp_path / 'not' / 'yet'} does not exist")
    assert not (tmp_path / "not").exists()


def test_config_from_environment_variable(tmp_path, monkeypatch):
    """Without --config, $LISTSERV_CONFIG names the configuration file."""
    database = tmp_path / "env.db"
    config_file = tmp_path / "env.toml"
    config_file.write_text(f'[storage]\ndatabase = "{database}"\n')
    monkeypatch.setenv("LISTSERV_CONFIG", str(config_file))
    result = CliRunner().invoke(main, ["lists", "create", "team@example.org"])
    assert result.exit_code == 0, result.stderr
    assert database.exists()


def test_default_config_path_is_relative_to_working_directory(tmp_path, monkeypatch):
    """With neither --config nor $LISTSERV_CONFIG, ./config/listserv.toml is read from the working directory."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "listserv.toml").write_text('[storage]\ndatabase = "data/here.db"\n')
    (tmp_path / "data").mkdir()
    monkeypatch.delenv("LISTSERV_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["lists", "ls"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "no lists\n"
    assert (tmp_path / "data" / "here.db").exists()


def test_missing_config_file_is_a_usage_error(tmp_path, fails):
    """A --config file that does not exist: exit 2 and one line naming it."""
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "nope.toml"), "lists", "ls"])
    fails(result, 2, "configuration file not found", "nope.toml")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[storage]\ndatabse = "x.db"\n', "unknown key 'databse'"),
        ("[server]\nport = \"eight\"\n", "[server] port"),
        ("[server]\nlmtp = 1\n", "true or false"),
        ("[mystery]\nx = 1\n", "unknown table [mystery]"),
        ("[server\nport = 1\n", "listserv.toml"),
    ],
    ids=["unknown-key", "wrong-type-number", "wrong-type-bool", "unknown-table", "not-toml"],
)
def test_bad_configuration_is_a_usage_error(tmp_path, fails, text, fragment):
    """A bad config key, a value of the wrong type or broken TOML: exit 2, one line naming the problem."""
    config_file = tmp_path / "listserv.toml"
    config_file.write_text(text)
    result = CliRunner().invoke(main, ["--config", str(config_file), "lists", "ls"])
    fails(result, 2, fragment)


def test_unopenable_database_is_refused_with_exit_1(tmp_path, fails):
    """A database path that cannot be created (its parent is a file, or it is a directory) gives exit 1 and one line."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    config_file = tmp_path / "listserv.toml"
    config_file.write_text(f'[storage]\ndatabase = "{blocker / "listserv.db"}"\n')
    result = CliRunner().invoke(main, ["--config", str(config_file), "lists", "ls"])
    fails(result, 1, f"the database directory {blocker} is not a directory")
    config_file.write_text(f'[storage]\ndatabase = "{tmp_path}"\n')
    result = CliRunner().invoke(main, ["--config", str(config_file), "lists", "ls"])
    fails(result, 1, "cannot open database")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["frobnicate"], "No such command 'frobnicate'"),
        (["lists", "create"], "Missing argument 'NAME@DOMAIN'"),
        (["lists", "ls", "--colour"], "No such option '--colour'"),
        (["lists", "create", "a@example.org", "--nonmember-action", "ignore"], "--nonmember-action"),
        (["members", "add", "team@example.org", "ann@example.org", "--role", "admin"], "'admin' is not one of"),
        (["held", "show", "seven"], "'seven' is not a valid integer"),
        (["held", "approve"], "Missing argument 'ID...'"),
        (["serve", "--port", "70000"], "--port"),
    ],
    ids=["command", "argument", "option", "nonmember-choice", "role-choice", "id-type", "ids-missing", "port-range"],
)
def test_click_usage_errors_exit_2_with_one_line(listserv, fails, args, fragment):
    """click's own usage errors keep the contract: exit 2, one stderr line, a pointer to --help."""
    line = fails(listserv(*args), 2, fragment)
    assert "(see 'listserv" in line and "--help')" in line


def test_serve_host_override_is_checked_like_the_file(listserv, fails):
    """`serve --host` obeys [server] host's rule: a value that is no host name is exit 2 before anything starts."""
    fails(listserv("serve", "--host", "not a host"), 2, "[server] host: expected a host name or IP address")


def test_version():
    """`listserv --version` prints the package version."""
    from listserv import __version__

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_interrupt_is_one_line_exit_1(listserv, monkeypatch):
    """Ctrl-C during a command (simulated: no one presses keys here) ends with one error line and exit 1."""
    from listserv import lists

    async def interrupted(store):
        raise KeyboardInterrupt

    monkeypatch.setattr(lists, "all_lists", interrupted)
    result = listserv("lists", "ls")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "listserv: error: aborted"
