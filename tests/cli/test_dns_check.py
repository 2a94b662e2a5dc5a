"""`listserv dns check DOMAIN` against the loopback DNS server: one line per check, exit 1 when one needs fixing."""

from __future__ import annotations

from tests.dkim_keys import SigningKey

IP = "192.0.2.25"


def _publish_all(zone, key: SigningKey) -> None:
    zone.add("example.org", "MX", "10 mx.example.org")
    zone.add("example.org", "TXT", f"v=spf1 mx ip4:{IP} -all")
    zone.add("_dmarc.example.org", "TXT", "v=DMARC1; p=quarantine")
    zone.add("25.2.0.192.in-addr.arpa", "PTR", "lists.example.org")
    zone.add("lists.example.org", "A", IP)
    key.publish(zone)


def _key_file(tmp_path, key: SigningKey):
    path = tmp_path / "dkim.pem"
    path.write_bytes(key.pem)
    return path


async def test_all_published_exits_0(cli, dns, tmp_path):
    """A domain publishing MX, SPF naming the host, the matching DKIM key, DMARC and a confirmed PTR: all ok."""
    key = SigningKey("example.org")
    _publish_all(dns.zone, key)
    result = await cli("dns", "check", "example.org", "--selector", "sel1", "--key", str(_key_file(tmp_path, key)),
                       "--ip", IP)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["ok", "MX"], ["ok", "SPF"], ["ok", "DKIM"], ["ok", "DMARC"], ["ok", "PTR"],
    ]
    assert "p=quarantine" in lines[3]


async def test_nothing_published_says_what_to_fix(cli, dns):
    """An empty domain: MX, SPF and DMARC say what to publish; DKIM and PTR are skipped without options; exit 1."""
    result = await cli("dns", "check", "example.org")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("fix      MX") and "MX 10" in lines[0]
    assert lines[1].startswith("fix      SPF") and '"v=spf1 mx ip4:<sending address> -all"' in lines[1]
    assert lines[2].startswith("skipped  DKIM")
    assert lines[3].startswith("fix      DMARC") and "_dmarc.example.org" in lines[3]
    assert lines[4].startswith("skipped  PTR")
    assert lines[5] == "listserv: error: example.org: fix MX, SPF, DMARC (see above)"


async def test_wrong_key_spf_and_ptr(cli, dns, tmp_path):
    """A DKIM record of another key, SPF not naming the host and a PTR not pointing back: each a fix line."""
    published = SigningKey("example.org")
    _publish_all(dns.zone, published)
    dns.zone.replace("example.org", "TXT", "v=spf1 ip4:198.51.100.0/24 -all")
    dns.zone.replace("lists.example.org", "A", "198.51.100.9")
    other = _key_file(tmp_path, SigningKey("example.org"))
    result = await cli("dns", "check", "example.org", "--selector", "sel1", "--key", str(other), "--ip", IP)
    assert result.exit_code == 1
    text = result.output
    assert f"does not name {IP}: add ip4:{IP}" in text
    assert "is not the public half of" in text
    assert f"{IP} is lists.example.org, which has no A record {IP}" in text


async def test_dns_failure_is_unknown(cli, dns):
    """DNS failing for the domain: 'unknown' lines and exit 1, never a traceback."""
    dns.zone.failing.update({"example.org", "_dmarc.example.org"})
    result = await cli("dns", "check", "example.org")
    assert result.exit_code == 1
    assert result.output.startswith("unknown  MX     DNS gave no answer")


async def test_bad_arguments_exit_2(cli):
    """A malformed domain or IP is a usage error (exit 2) with one line."""
    result = await cli("dns", "check", "not a domain")
    assert result.exit_code == 2
    assert "expected a domain name" in result.output
    result = await cli("dns", "check", "example.org", "--ip", "300.1.1.1")
    assert result.exit_code == 2
