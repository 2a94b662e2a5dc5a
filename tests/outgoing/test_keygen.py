"""`listserv dkim keygen`: owner-only key files, the exact records to publish, no silent replacement."""

from __future__ import annotations

import stat
from pathlib import Path

import dkim

from listserv import outgoing
from tests.e2e.helpers import make_list, message
from tests.outgoing.helpers import dns_from, records, well_signed


def key_dir(settings) -> Path:
    return Path(settings.storage.database).parent / "dkim" / "example.org"


async def test_keygen_writes_owner_only_keys_and_prints_records_that_verify(settings, cli):
    """Directories 0700, key files 0600; the printed records verify mail signed with the keys."""
    await make_list(cli)
    result = await cli("dkim", "keygen", "example.org")
    assert result.exit_code == 0, result.output
    for directory in (key_dir(settings).parent, key_dir(settings)):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    files = sorted(path.name for path in key_dir(settings).iterdir())
    assert files == ["listserv-ed25519.key", "listserv.key"]
    assert all(stat.S_IMODE((key_dir(settings) / name).stat().st_mode) == 0o600 for name in files)
    published = records(result.output)
    assert sorted(published) == ["listserv-ed25519._domainkey.example.org", "listserv._domainkey.example.org"]
    assert published["listserv._domainkey.example.org"].startswith(b"v=DKIM1; k=rsa; p=")
    assert published["listserv-ed25519._domainkey.example.org"].startswith(b"v=DKIM1; k=ed25519; p=")
    signed = outgoing.finish(settings, "example.org", message("ann@example.org", "Hello"))
    assert well_signed(signed, dns_from(published))


async def test_the_rsa_record_is_cut_into_strings_of_at_most_255_bytes(cli):
    """A 2048-bit key's record is longer than one TXT string may be: it is printed as several quoted strings."""
    await make_list(cli)
    result = await cli("dkim", "keygen", "example.org", "--selector", "s2026")
    [line] = [line for line in result.output.splitlines() if line.startswith("s2026._domainkey.example.org IN TXT")]
    strings = line.split(" IN TXT ", 1)[1].split('" "')
    assert len(strings) == 2 and all(len(part.strip('"')) <= 255 for part in strings)


async def test_an_existing_key_is_refused_and_replaced_only_with_force(settings, cli):
    """A second keygen exits 1 with one line and leaves the key; --force makes a new one (old records fail)."""
    await make_list(cli)
    first = await cli("dkim", "keygen", "example.org")
    before = (key_dir(settings) / "listserv.key").read_bytes()
    again = await cli("dkim", "keygen", "example.org")
    assert again.exit_code == 1
    assert again.output.strip().splitlines() == [
        f"listserv: error: {key_dir(settings) / 'listserv.key'} exists already: publish its record,"
        " or replace it with --force"]
    assert (key_dir(settings) / "listserv.key").read_bytes() == before
    forced = await cli("dkim", "keygen", "example.org", "--force")
    assert forced.exit_code == 0 and records(forced.output) != records(first.output)
    assert stat.S_IMODE((key_dir(settings) / "listserv.key").stat().st_mode) == 0o600
    assert sorted(path.name for path in key_dir(settings).iterdir()) == ["listserv-ed25519.key", "listserv.key"]
    signed = outgoing.finish(settings, "example.org", message("ann@example.org", "Hello"))
    assert not dkim.verify(signed, dnsfunc=dns_from(records(first.output)))
    assert well_signed(signed, dns_from(records(forced.output)))


async def test_a_domain_without_a_list_is_refused(settings, cli):
    """keygen for a domain none of the lists uses exits 1 with one line and writes nothing."""
    await make_list(cli)
    result = await cli("dkim", "keygen", "example.com")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "listserv: error: no list of this server is at example.com: create the list first (listserv lists create)"]
    assert not (Path(settings.storage.database).parent / "dkim").exists()


async def test_a_selector_that_is_no_dns_label_is_bad_usage(cli):
    """--selector with a space or a dot exits 2 with one line."""
    await make_list(cli)
    for selector in ("a b", "a.b", "-a"):
        result = await cli("dkim", "keygen", "example.org", "--selector", selector)
        assert result.exit_code == 2
        assert result.output.strip().splitlines() == [
            f"listserv: error: selector {selector!r} is not a DNS label (letters, digits, inner hyphens)"]
