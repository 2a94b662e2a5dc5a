"""`listserv postfix-maps [--write DIR]`: Postfix's transport and relay_domains entries for every list address."""

from __future__ import annotations

import asyncio
import re
import stat
from dataclasses import replace

import pytest

from listserv import postfix_maps
from listserv.daemon import Daemon

TEAM_ADDRESSES = [
    "team@example.org", "team+confidential@example.org", "team-request@example.org", "team-owner@example.org",
    "team-bounces@example.org", "team-bounces+ann=example.com@example.org", "team-confirm+abc123@example.org",
    "TEAM-Request@Example.ORG",
]
NOT_TEAM = ["teamx@example.org", "team-other@example.org", "team@example.org.evil", "xteam@example.org",
            "team-confirm@example.org", "team@exampleXorg"]


def _rules(text: str) -> list[tuple[re.Pattern, str]]:
    """The transport map's rules as Postfix reads them (regexp tables are case-insensitive by default)."""
    found = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            pattern, hop = line.rsplit(None, 1)
            found.append((re.compile(pattern.strip()[1:-1], re.IGNORECASE), hop))
    return found


async def _lists(cli, *addresses: str) -> None:
    for address in addresses:
        assert (await cli("lists", "create", address)).exit_code == 0


async def test_printed_maps_route_every_list_address_to_listserv(cli, smtp_settings):
    """One transport line per list matches all its sub-addresses (and no other address); relay_domains lists each domain."""
    await _lists(cli, "team@example.org", "board@lists.example.net")
    result = await cli("postfix-maps")
    assert result.exit_code == 0
    transport, _, domains = result.output.partition("# listserv_domains")
    rules = _rules(transport.partition("\n")[2])
    hop = f"lmtp:inet:127.0.0.1:{smtp_settings.server.port}"
    assert [h for _, h in rules] == [hop, hop]
    for address in TEAM_ADDRESSES:
        assert any(p.fullmatch(address) for p, _ in rules), address
    for address in NOT_TEAM:
        assert not any(p.fullmatch(address) for p, _ in rules), address
    assert [line for line in domains.splitlines()[1:] if not line.startswith("#")] == [
        "example.org", "lists.example.net"]


async def test_write_puts_both_files_in_dir_0644_and_only_rewrites_changes(cli, tmp_path):
    """--write DIR writes listserv_transport and listserv_domains (0644); a second run with no change writes nothing."""
    await _lists(cli, "team@example.org")
    maps = tmp_path / "maps"
    maps.mkdir()
    first = await cli("postfix-maps", "--write", str(maps))
    assert first.exit_code == 0 and "listserv_transport" in first.output and "listserv_domains" in first.output
    for name in ("listserv_transport", "listserv_domains"):
        assert stat.S_IMODE((maps / name).stat().st_mode) == 0o644
    assert "team" in (maps / "listserv_transport").read_text()
    again = await cli("postfix-maps", "--write", str(maps))
    assert again.exit_code == 0 and again.output == f"{maps}: maps unchanged\n"
    assert sorted(p.name for p in maps.iterdir()) == ["listserv_domains", "listserv_transport"]  # no temp file left


async def test_write_to_a_missing_directory_is_refused(cli, tmp_path):
    """--write naming a directory that does not exist: one line naming it, exit 1."""
    result = await cli("postfix-maps", "--write", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert result.output == f"listserv: error: cannot write the Postfix maps: {tmp_path / 'nowhere'} is not a directory\n"


def test_next_hop_of_a_wildcard_or_ipv6_listener():
    """A server listening everywhere is reached on loopback; an IPv6 address goes in brackets."""
    from listserv.config import ServerSettings, Settings

    assert postfix_maps.next_hop(Settings(server=ServerSettings(host="0.0.0.0", port=24))) == "lmtp:inet:127.0.0.1:24"
    assert postfix_maps.next_hop(Settings(server=ServerSettings(host="::1", port=24))) == "lmtp:inet:[::1]:24"


@pytest.fixture
async def maps_server(smtp_settings, tmp_path):
    """The daemon with [postfix] maps_dir set and its periodic jobs ticking every 0.1 s."""
    maps = tmp_path / "maps"
    maps.mkdir()
    daemon = Daemon(replace(smtp_settings, postfix=replace(smtp_settings.postfix, maps_dir=str(maps))), tick=0.1)
    await daemon.start()
    yield maps
    await daemon.stop()


async def _until_text(path, predicate) -> str:
    for _ in range(100):
        text = path.read_text() if path.exists() else ""
        if predicate(text):
            return text
        await asyncio.sleep(0.05)
    raise AssertionError(f"{path} never matched: {text!r}")


async def test_the_daemon_rewrites_the_maps_when_lists_are_created_and_deleted(maps_server, cli):
    """With maps_dir set, a list created (then deleted) with the CLI appears in (then leaves) the daemon's maps."""
    transport = maps_server / "listserv_transport"
    await _lists(cli, "team@example.org")
    await _until_text(transport, lambda text: "^team(" in text)
    assert "example.org" in (maps_server / "listserv_domains").read_text()
    assert (await cli("lists", "delete", "team@example.org", "--yes")).exit_code == 0
    await _until_text(transport, lambda text: "^team(" not in text)
    assert "example.org" not in (maps_server / "listserv_domains").read_text()
