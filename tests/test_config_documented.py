"""The shipped config/listserv.toml and the settings dataclasses list the same keys, each documented."""

import tomllib
from pathlib import Path

import pytest

from listserv import config
from listserv.errors import ConfigError

SHIPPED = Path(__file__).resolve().parents[1] / "config" / "listserv.toml"


def test_shipped_file_has_every_key_and_no_other():
    """Every key of the code's settings table appears in the shipped file, and nothing else."""
    data = tomllib.loads(SHIPPED.read_text())
    shipped = {f"{table}.{key}" for table, keys in data.items() for key in keys}
    assert shipped == config.documented_keys()


def test_every_shipped_key_has_a_comment_above_it():
    """An administrator reading the file finds a comment line right above each key."""
    lines = SHIPPED.read_text().splitlines()
    for i, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            assert lines[i - 1].startswith("#"), f"undocumented key: {line}"


def test_shipped_file_loads_to_the_defaults():
    """Loading the shipped file gives the same settings as the built-in defaults."""
    assert config.load(SHIPPED) == config.Settings()


@pytest.mark.parametrize(
    "text, message",
    [
        ("[server]\nprot = 1\n", "unknown key 'prot' in [server]"),
        ("[sever]\nport = 1\n", "unknown table [sever]"),
        ('[server]\nport = "25"\n', "[server] port: expected a non-negative number"),
        ("[server]\nlmtp = 1\n", "[server] lmtp: expected true or false"),
        ("[delivery]\nretry_schedule = [1, 'x']\n", "[delivery] retry_schedule: expected a list"),
        ("[storage]\ndatabase = 5\n", "[storage] database: expected a string"),
        ('[log]\nlevel = "LOUD"\n', "[log] level: expected one of DEBUG, INFO, WARNING, ERROR, got 'LOUD'"),
        ("[log]\nfile = 3\n", "[log] file: expected a string"),
        ("[server\n", "Expected ']'"),
    ],
)
def test_bad_files_are_refused_naming_the_key(tmp_path, text, message):
    """A typo or a wrong type is refused at load with a one-line message naming the key."""
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        config.load(path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_explicit_file_is_refused(tmp_path):
    """--config naming a file that does not exist is an error, not silent defaults."""
    with pytest.raises(ConfigError, match="not found"):
        config.load(tmp_path / "nope.toml")


def test_environment_variable_is_used(tmp_path, monkeypatch):
    """$LISTSERV_CONFIG is read when --config is not given."""
    path = tmp_path / "env.toml"
    path.write_text("[server]\nport = 2525\n")
    monkeypatch.setenv("LISTSERV_CONFIG", str(path))
    assert config.load().server.port == 2525


def test_to_toml_round_trips(tmp_path):
    """A Settings written with to_toml loads back unchanged (tests and benchmarks rely on it)."""
    settings = config.Settings()
    path = tmp_path / "c.toml"
    path.write_text(config.to_toml(settings))
    assert config.load(path) == settings


def test_log_level_is_read_in_any_case(tmp_path):
    """[log] level "warning" is the same as "WARNING"; the default is INFO to standard error."""
    path = tmp_path / "c.toml"
    path.write_text('[log]\nlevel = "warning"\n')
    assert config.load(path).log == config.LogSettings(level="WARNING", file="")
    assert config.Settings().log == config.LogSettings(level="INFO", file="")
