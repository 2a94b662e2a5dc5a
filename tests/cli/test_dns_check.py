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


def _published_keygen_record(output: str) -> tuple[str, str]:
    """(name, value) of the RSA record `dkim keygen` printed."""
    from tests.outgoing.helpers import records

    name, value = next((n, v) for n, v in records(output).items() if b"k=rsa" in v)
    return name, value.decode()


async def test_the_domains_own_key_is_found_and_checked(cli, dns):
    """Without --selector/--key, the key `dkim keygen` made is found under the data directory: its published
    record is ok and names the key file."""
    assert (await cli("lists", "create", "team@example.org")).exit_code == 0
    made = await cli("dkim", "keygen", "example.org")
    name, value = _published_keygen_record(made.output)
    dns.zone.add(name, "TXT", value)
    result = await cli("dns", "check", "example.org")
    dkim_line = result.output.splitlines()[2]
    assert dkim_line.startswith("ok       DKIM") and "listserv._domainkey.example.org matches" in dkim_line
    assert dkim_line.endswith("dkim/example.org/listserv.key")


async def test_the_domains_own_key_against_another_record(cli, dns):
    """A record published for an older key than the one under the data directory: a fix line, exit 1."""
    assert (await cli("lists", "create", "team@example.org")).exit_code == 0
    assert (await cli("dkim", "keygen", "example.org")).exit_code == 0
    dns.zone.add("listserv._domainkey.example.org", "TXT", SigningKey("example.org").record)
    result = await cli("dns", "check", "example.org")
    assert result.exit_code == 1
    assert result.output.splitlines()[2].startswith("fix      DKIM") and "is not the public half of" in result.output


async def test_a_selector_picks_one_of_the_domains_keys(cli, dns):
    """--selector without --key names which of the domain's keys is compared: that key file, not the other."""
    assert (await cli("lists", "create", "team@example.org")).exit_code == 0
    assert (await cli("dkim", "keygen", "example.org", "--selector", "s2026")).exit_code == 0
    made = await cli("dkim", "keygen", "example.org", "--selector", "a2025")
    dns.zone.add("s2026._domainkey.example.org", "TXT", _published_keygen_record(made.output)[1])
    result = await cli("dns", "check", "example.org", "--selector", "s2026")
    assert result.exit_code == 1
    assert "is not the public half of" in result.output and "/example.org/s2026.key: publish" in result.output.splitlines()[2]
    assert "no key record" in (await cli("dns", "check", "example.org")).output.splitlines()[2]  # a2025 first
