"""Values out of range are refused when the configuration loads, one line naming the file, table and key."""

from __future__ import annotations

import dataclasses

import pytest

from listserv import config
from listserv.errors import ConfigError

OUT_OF_RANGE = [
    # (table, key, TOML value, fragment of the message)
    ("server", "port", "99999", "a port number from 0 to 65535, got 99999"),
    ("server", "port", "65536", "a port number from 0 to 65535"),
    ("server", "port", "-1", "a non-negative number"),
    ("server", "host", '""', "a host name or IP address"),
    ("server", "host", '"local host"', "a host name or IP address"),
    ("server", "host", '"-bad.example"', "a host name or IP address"),
    ("server", "hostname", '"lists example org"', "a host name"),
    ("server", "max_message_size", "0", "at least 1"),
    ("server", "max_recipients", "0", "at least 1"),
    ("storage", "database", '""', "a file path"),
    ("storage", "database", '"   "', "a file path"),
    ("storage", "checkpoint_wait", "inf", "at least 0"),
    ("storage", "checkpoint_wait", "nan", "a non-negative number"),
    ("delivery", "transport", '"ftp://x"', '"smtp://HOST:PORT" or "maildir:PATH", got \'ftp://x\''),
    ("delivery", "transport", '"smtp://relay.example.org:99999"', '"smtp://HOST:PORT"'),
    ("delivery", "transport", '"smtp://relay.example.org:0"', '"smtp://HOST:PORT"'),
    ("delivery", "transport", '"smtp://user:pw@relay.example.org"', '"smtp://HOST:PORT"'),
    ("delivery", "transport", '"smtp://bad host:25"', '"smtp://HOST:PORT"'),
    ("delivery", "transport", '"smtps://relay.example.org:465"', '"smtp://HOST:PORT" or "maildir:PATH"'),
    ("delivery", "transport", '"maildir:"', '"smtp://HOST:PORT" or "maildir:PATH"'),
    ("delivery", "transport", '"relay.example.org:25"', '"smtp://HOST:PORT" or "maildir:PATH"'),
    ("delivery", "max_recipients", "0", "at least 1"),
    ("web", "port", "70000", "a port number from 0 to 65535"),
    ("web", "host", '"bad host"', "a host name or IP address"),
    ("web", "base_url", '"ftp://lists.example.org"', "an http:// or https:// URL"),
    ("web", "base_url", '"https://"', "an http:// or https:// URL"),
    ("web", "base_url", '"https://lists.example.org/?a=1"', "an http:// or https:// URL"),
    ("web", "session_days", "0", "at least 1"),
    ("delivery", "connections", "0", "at least 1"),
    ("delivery", "retry_schedule", "[]", "a non-empty list of seconds, each at least 1, got []"),
    ("delivery", "retry_schedule", "[60, 0]", "each at least 1, got [60, 0]"),
    ("delivery", "give_up_after", "0", "at least 1"),
    ("delivery", "timeout", "0", "at least 1"),
    ("delivery", "poll_interval", "0", "greater than 0"),
    ("delivery", "poll_interval", "0.0", "greater than 0"),
]


@pytest.mark.parametrize("table, key, value, fragment", OUT_OF_RANGE,
                         ids=[f"{table}.{key}={value}" for table, key, value, _ in OUT_OF_RANGE])
def test_out_of_range_value_is_refused_naming_file_table_and_key(tmp_path, table, key, value, fragment):
    """Each value no server could run with is a ConfigError at load: one line with the file, [table] key, the value."""
    path = tmp_path / "listserv.toml"
    path.write_text(f"[{table}]\n{key} = {value}\n")
    with pytest.raises(ConfigError) as refused:
        config.load(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: [{table}] {key}: expected "), message
    assert fragment in message and "\n" not in message


@pytest.mark.parametrize("table, key, value", [
    ("server", "port", "0"), ("server", "port", "65535"), ("server", "host", '"::"'), ("server", "host", '"0.0.0.0"'),
    ("server", "hostname", '"lists.example.org"'), ("storage", "checkpoint_wait", "0"),
    ("delivery", "transport", '"smtp://[::1]:2525"'), ("delivery", "transport", '"smtp://relay.example.org"'),
    ("delivery", "transport", '"maildir:/var/spool/listserv outbox"'), ("delivery", "poll_interval", "0.05"),
    ("delivery", "retry_schedule", "[1]"),
])
def test_edge_values_that_work_are_accepted(tmp_path, table, key, value):
    """The limits themselves load: port 0 (any free port) and 65535, a zero checkpoint wait, IPv6 smarthosts."""
    path = tmp_path / "listserv.toml"
    path.write_text(f"[{table}]\n{key} = {value}\n")
    assert getattr(getattr(config.load(path), table), key) is not None


def test_every_number_and_list_key_declares_its_range():
    """A number or list key added later cannot skip the range check: each declares check= in listserv/config.py."""
    unchecked = [
        f"{name}.{spec.name}" for name, section in config.SECTIONS.items() for spec in dataclasses.fields(section)
        if isinstance(spec.default, (int, float, tuple)) and not isinstance(spec.default, bool)
        and spec.metadata.get("check") is None
    ]
    assert unchecked == [], "give these keys a check= (their range) in listserv/config.py"


def test_settings_changed_in_code_obey_the_same_ranges():
    """A value set in code (serve --port, tests' replace()) is checked by the dataclass itself, not only at load."""
    with pytest.raises(ConfigError, match=r"^\[server\] port: expected a port number from 0 to 65535, got 70000$"):
        dataclasses.replace(config.ServerSettings(), port=70000)
