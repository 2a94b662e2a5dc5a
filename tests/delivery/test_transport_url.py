"""transport_from_url: the two forms of `[delivery] transport`, and a one-line ConfigError for anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from listserv.config import DeliverySettings
from listserv.delivery import transport_from_url
from listserv.delivery.maildir import MaildirTransport
from listserv.delivery.smtp import SmtpTransport
from listserv.errors import ConfigError


def test_maildir_url_gives_a_maildir_transport():
    """maildir:PATH writes under PATH (relative paths stay relative to the working directory)."""
    transport = transport_from_url("maildir:archives/outbox", DeliverySettings())
    assert isinstance(transport, MaildirTransport) and transport.path == Path("archives/outbox")


@pytest.mark.parametrize(
    "url, host, port",
    [
        ("smtp://127.0.0.1:2525", "127.0.0.1", 2525),
        ("smtp://relay.example.org", "relay.example.org", 25),
        ("smtp://[::1]:25/", "::1", 25),
    ],
)
def test_smtp_url_gives_an_smtp_transport(url, host, port):
    """smtp://HOST[:PORT] names the smarthost; the port defaults to 25."""
    transport = transport_from_url(url, DeliverySettings())
    assert isinstance(transport, SmtpTransport)
    assert (transport.host, transport.port) == (host, port)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "maildir:",
        "maildir:   ",
        "mbox:/var/mail/x",
        "smtp:",
        "smtp://",
        "smtp://:25",
        "smtp://host:99999",
        "smtp://host:0",
        "smtp://host:port",
        "smtp://user:secret@host:25",
        "smtp://host:25/path",
        "smtp://host:25?tls=no",
        "smtps://host:465",
        "127.0.0.1:25",
    ],
)
def test_a_bad_url_is_a_config_error_naming_it(url):
    """Every malformed or unsupported value is refused with one line that quotes it."""
    with pytest.raises(ConfigError) as refused:
        transport_from_url(url, DeliverySettings())
    message = str(refused.value)
    assert message.startswith("[delivery] transport: expected") and repr(url) in message and "\n" not in message
