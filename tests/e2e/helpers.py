"""Shared steps of the end-to-end tests: build a list with the CLI, send over SMTP, read copies."""

from __future__ import annotations

import email
import json
from email import policy
from email.message import EmailMessage

import aiosmtplib

LIST = "team@example.org"
MEMBERS = ("ann@example.org", "bob@example.org", "cy@example.org")


async def make_list(cli, *extra_members: tuple[str, ...]) -> None:
    """team@example.org with ann (owner), bob and cy, plus any (address, options...) given."""
    assert (await cli("lists", "create", LIST, "--description", "Team talk")).exit_code == 0
    assert (await cli("members", "add", LIST, "ann@example.org", "--name", "Ann", "--role", "owner")).exit_code == 0
    for address in MEMBERS[1:]:
        assert (await cli("members", "add", LIST, address)).exit_code == 0
    for address, *options in extra_members:
        result = await cli("members", "add", LIST, address, *options)
        assert result.exit_code == 0, result.output


def message(sender: str, subject: str, body: str = "Hello list.", **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = LIST
    msg["Subject"] = subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return bytes(msg)


async def send(port: int, raw: bytes, sender: str, recipients=(LIST,)) -> None:
    errors, _ = await aiosmtplib.send(raw, sender=sender, recipients=list(recipients), hostname="127.0.0.1", port=port)
    assert errors == {}


def parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


async def held(cli) -> list[dict]:
    result = await cli("held", "ls", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)
