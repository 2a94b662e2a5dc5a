"""VERP'd batches pipelined (RFC 2920) to a smarthost offering PIPELINING: exact per member, retried when cut."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from listserv import verp
from listserv.config import DeliverySettings
from listserv.delivery import TransportError
from listserv.delivery.smtp import SmtpTransport
from tests.conftest import Sink, free_port, running

BOUNCES = "team-bounces@example.org"
PEOPLE = [f"member{n}@example.org" for n in range(6)]
# Lines that open with a dot must arrive as they were: dot-stuffed on the wire, unstuffed by the smarthost.
CONTENT = b"From: ann@example.org\r\nSubject: s\r\n\r\n.hidden\r\n..two\r\nbody\r\n"


class PipeliningSink(Sink):
    """The recording sink offering PIPELINING; refuses MAIL from `refuse_sender`, drops the connection at `drop`."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse_sender = False
        self.drop: str | None = None
        self.stall: str | None = None  # RCPT of this member gets no answer for 3 seconds
        self.peers: set = set()
        self.offers = True  # PIPELINING in EHLO
        self.mail_options: list[list[str]] = []  # each MAIL's parameters, upper-cased

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses[:-1] + ["250-PIPELINING", responses[-1]] if self.offers else responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.peers.add(session.peer)
        self.mail_options.append([option.upper() for option in mail_options])
        if self.refuse_sender:
            return "550 5.7.1 sender not allowed"
        envelope.mail_from = address
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.drop:
            self.drop = None
            server.transport.close()  # as if the smarthost crashed before answering this RCPT
            return "250 2.1.5 OK"
        if address == self.stall:
            await asyncio.sleep(3)
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


@pytest.fixture
def piping():
    with running(PipeliningSink()) as handler:
        yield handler


def _codes(results: dict) -> dict:
    return {rcpt: code for rcpt, (code, _) in results.items()}


async def test_each_member_gets_a_transaction_with_its_own_sender_and_the_message_intact(piping, transport_to):
    """Pipelined: every member's copy arrives once, from its VERP sender, the dotted lines unchanged."""
    transport = transport_to(piping.port)
    results = await transport.send(BOUNCES, PEOPLE, CONTENT, verp=True)
    assert _codes(results) == {r: 250 for r in PEOPLE}
    assert [(frm, rcpts) for frm, rcpts, _ in piping.received] == [(verp.encode(BOUNCES, r), [r]) for r in PEOPLE]
    assert {content for _, _, content in piping.received} == {CONTENT}


async def test_a_refusal_answers_that_member_only(piping, transport_to):
    """A 550 and a 451 at RCPT, a 451 at DATA: each decides its own member; the others are delivered."""
    piping.fail_rcpt = {PEOPLE[1]: "550 5.1.1 no such mailbox", PEOPLE[2]: "451 4.3.0 later"}
    piping.tempfail_data = 1  # the first DATA to reach the sink: PEOPLE[0]'s
    results = await transport_to(piping.port).send(BOUNCES, PEOPLE, CONTENT, verp=True)
    assert _codes(results) == {PEOPLE[0]: 451, PEOPLE[1]: 550, PEOPLE[2]: 451, **{r: 250 for r in PEOPLE[3:]}}
    assert results[PEOPLE[1]][1] == "5.1.1 no such mailbox"
    assert piping.recipients() == PEOPLE[3:]


async def test_a_refused_last_member_leaves_the_connection_clean_for_the_next_batch(piping, transport_to):
    """The batch ends on a refused RCPT: the next batch on the same connection is delivered in full."""
    piping.fail_rcpt = {PEOPLE[-1]: "550 5.1.1 no such mailbox"}
    transport = transport_to(piping.port)
    first = await transport.send(BOUNCES, PEOPLE, CONTENT, verp=True)
    second = await transport.send(BOUNCES, PEOPLE[:2], CONTENT, verp=True)
    assert first[PEOPLE[-1]][0] == 550 and _codes(second) == {r: 250 for r in PEOPLE[:2]}
    assert len(piping.peers) == 1


async def test_a_refused_sender_leaves_every_member_waiting(piping, transport_to):
    """MAIL refused: no member is decided (code 0, the reply in the text), nothing is delivered."""
    piping.refuse_sender = True
    results = await transport_to(piping.port).send(BOUNCES, PEOPLE, CONTENT, verp=True)
    assert _codes(results) == {r: 0 for r in PEOPLE}
    assert results[PEOPLE[0]][1] == "smarthost refused the sender: 550 5.7.1 sender not allowed"
    assert piping.received == []


async def test_a_non_ascii_member_goes_with_smtputf8_when_offered(piping, transport_to):
    """The smarthost offers SMTPUTF8: zoë's transaction says SMTPUTF8 and her copy arrives from her VERP sender."""
    results = await transport_to(piping.port).send(BOUNCES, ["ann@example.org", "zoë@example.org"], CONTENT, verp=True)
    assert _codes(results) == {"ann@example.org": 250, "zoë@example.org": 250}
    assert [("SMTPUTF8" in options) for options in piping.mail_options] == [False, True]
    assert [frm for frm, _, _ in piping.received] == [verp.encode(BOUNCES, r) for r in ("ann@example.org", "zoë@example.org")]


async def test_a_sender_the_smarthost_cannot_take_leaves_every_member_waiting(transport_to):
    """A non-ASCII list address and no SMTPUTF8 offered: nothing is sent, every member waits, and says why."""
    handler = PipeliningSink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=False)
    controller.start()
    try:
        results = await transport_to(controller.port).send("zoë-bounces@example.org", PEOPLE[:2], CONTENT, verp=True)
    finally:
        controller.stop()
    assert _codes(results) == {r: 0 for r in PEOPLE[:2]}
    assert results[PEOPLE[0]][1] == (
        "envelope sender 'zoë-bounces+member0=example.org@example.org' cannot be sent to this smarthost")
    assert handler.received == []


async def test_a_lost_connection_retries_only_what_was_not_confirmed(piping, transport_to):
    """Dropped at the fourth member: three delivered, the rest waiting; the next try sends those, once each."""
    piping.drop = PEOPLE[3]
    transport = transport_to(piping.port)
    results = await transport.send(BOUNCES, PEOPLE, CONTENT, verp=True)
    assert _codes(results) == {**{r: 250 for r in PEOPLE[:3]}, **{r: 0 for r in PEOPLE[3:]}}
    waiting = [r for r, (code, _) in results.items() if code == 0]
    again = await transport.send(BOUNCES, waiting, CONTENT, verp=True)
    assert _codes(again) == {r: 250 for r in PEOPLE[3:]}
    assert sorted(piping.recipients()) == sorted(PEOPLE)


async def test_a_silent_smarthost_mid_batch_leaves_the_rest_waiting(piping):
    """No answer to the third member's RCPT within the timeout: two delivered, the rest waiting, said why."""
    piping.stall = PEOPLE[2]
    transport = SmtpTransport("127.0.0.1", piping.port, DeliverySettings(connections=1, timeout=1))
    try:
        results = await transport.send(BOUNCES, PEOPLE, CONTENT, verp=True)
        piping.stall = None
        again = await transport.send(BOUNCES, PEOPLE[2:], CONTENT, verp=True)  # on a new connection
    finally:
        await transport.close()
    assert _codes(results) == {**{r: 250 for r in PEOPLE[:2]}, **{r: 0 for r in PEOPLE[2:]}}
    assert results[PEOPLE[2]][1] == "no answer within 1s"
    assert _codes(again) == {r: 250 for r in PEOPLE[2:]} and len(piping.peers) == 2


async def test_a_smarthost_gone_between_batches_is_a_transport_error(transport_to):
    """After a pipelined batch the smarthost stops: the next batch cannot connect and says so."""
    handler = PipeliningSink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    transport = transport_to(controller.port)
    try:
        assert _codes(await transport.send(BOUNCES, PEOPLE[:1], CONTENT, verp=True)) == {PEOPLE[0]: 250}
    finally:
        controller.stop()
    with pytest.raises(TransportError, match=f"cannot connect to smarthost 127.0.0.1:{controller.port}"):
        await transport.send(BOUNCES, PEOPLE[:1], CONTENT, verp=True)


async def test_a_smarthost_restarted_without_pipelining_gets_one_command_at_a_time(transport_to, caplog):
    """The smarthost comes back without PIPELINING: the next VERP'd batch is still delivered, each from its sender."""
    handler = PipeliningSink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    transport = transport_to(controller.port)
    try:
        await transport.send(BOUNCES, PEOPLE[:1], CONTENT, verp=True)
    finally:
        controller.stop()
    handler.offers = False
    handler.received.clear()
    controller = Controller(handler, hostname="127.0.0.1", port=controller.port)
    controller.start()
    try:
        with caplog.at_level("INFO", logger="listserv.delivery.smtp"):
            results = await transport.send(BOUNCES, PEOPLE, CONTENT, verp=True)
    finally:
        controller.stop()
    assert _codes(results) == {r: 250 for r in PEOPLE}
    assert [(frm, rcpts) for frm, rcpts, _ in handler.received] == [(verp.encode(BOUNCES, r), [r]) for r in PEOPLE]
    assert "no longer offers PIPELINING" in caplog.text


def _outward_address() -> str | None:
    """This machine's address on its default route (no packet is sent), or None without one."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def _certificates(directory: Path, address: str) -> tuple[Path, Path, Path]:
    """A test CA and a certificate for address signed by it: (ca.pem, cert.pem, key.pem)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "listserv test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


class TlsRecordingSink(PipeliningSink):
    """The pipelining sink, recording whether each MAIL came over TLS."""

    def __init__(self) -> None:
        super().__init__()
        self.tls: list[bool] = []

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.tls.append(session.ssl is not None)
        return await super().handle_MAIL(server, session, envelope, address, mail_options)


async def test_a_remote_smarthost_gets_the_pipelined_batch_over_starttls(tmp_path, monkeypatch):
    """Not on loopback: STARTTLS (its certificate checked) before any copy; every member delivered over TLS."""
    import ssl

    address = _outward_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    ca, cert, key = _certificates(tmp_path, address)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the test CA is the one trusted, as a real one would be
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    handler = TlsRecordingSink()
    controller = Controller(handler, hostname=address, port=free_port(), tls_context=server_context)
    controller.start()
    transport = SmtpTransport(address, controller.port, DeliverySettings(connections=1, timeout=5))
    try:
        first = await transport.send(BOUNCES, PEOPLE[:1], CONTENT, verp=True)  # learns PIPELINING
        results = await transport.send(BOUNCES, PEOPLE, CONTENT, verp=True)  # on a pipelined connection
    finally:
        await transport.close()
        controller.stop()
    assert _codes(first) == {PEOPLE[0]: 250} and _codes(results) == {r: 250 for r in PEOPLE}
    assert handler.tls == [True] * (1 + len(PEOPLE))
    assert handler.recipients() == PEOPLE[:1] + PEOPLE


@pytest.fixture
def smtp_sink():
    """Postfix's C smtp-sink (PIPELINING), dumping each transaction to a file; skipped where it is not installed."""
    program = shutil.which("smtp-sink") or ("/usr/sbin/smtp-sink" if os.path.exists("/usr/sbin/smtp-sink") else None)
    if program is None:
        pytest.skip("Postfix's smtp-sink is not installed (apt-get install postfix)")
    started: list[subprocess.Popen] = []
    dumps = tempfile.TemporaryDirectory(prefix="listserv-smtp-sink-")
    os.chmod(dumps.name, 0o777)  # smtp-sink drops to nobody when started as root

    def start(*options: str) -> tuple[int, Path]:
        port = free_port()
        user = ["-u", "nobody"] if os.geteuid() == 0 else []
        proc = subprocess.Popen([program, *user, "-d", f"{dumps.name}/%H%M%S.", *options, f"127.0.0.1:{port}", "64"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(proc)
        _wait_listening(port)
        return port, Path(dumps.name)

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=10)
    dumps.cleanup()


def _wait_listening(port: int) -> None:
    import socket

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise AssertionError(f"smtp-sink did not listen on {port}")


async def test_postfix_smtp_sink_gets_every_member_once_with_its_sender(smtp_sink, transport_to):
    """Against the C smtp-sink: 200 members, 200 dumped transactions, each with its VERP sender and the message."""
    port, dumps = smtp_sink()
    members = [f"m{n}@example.org" for n in range(200)]
    results = await transport_to(port).send(BOUNCES, members, CONTENT, verp=True)
    assert _codes(results) == {r: 250 for r in members}
    files = list(dumps.iterdir())
    deadline = time.monotonic() + 5
    while len(files) < len(members) and time.monotonic() < deadline:
        time.sleep(0.05)
        files = list(dumps.iterdir())
    senders = set()
    for path in files:
        message = message_from_bytes(path.read_bytes())
        senders.add(message["X-Mail-Args"].split()[0].strip("<>"))
        # smtp-sink writes the body unstuffed, then one empty line to end the dump.
        assert message.get_payload() == ".hidden\n..two\nbody\n\n"
    assert senders == {verp.encode(BOUNCES, r) for r in members}


async def test_postfix_smtp_sink_soft_refusals_answer_each_member(smtp_sink, transport_to):
    """smtp-sink answering 4xx to every RCPT: every member gets its 4xx, none is delivered."""
    port, dumps = smtp_sink("-r", "rcpt")
    results = await transport_to(port).send(BOUNCES, PEOPLE, CONTENT, verp=True)
    assert {code // 100 for code in _codes(results).values()} == {4}
    assert set(results) == set(PEOPLE)
    assert list(dumps.iterdir()) == []
