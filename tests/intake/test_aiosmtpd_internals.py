"""listserv/intake.py subclasses aiosmtpd's SMTP and uses some of its private names: say so when they change.

An upgrade of aiosmtpd that renames one of them would otherwise show up as
an AttributeError in the middle of a session, i.e. a lost post. Each test
names what is gone, so whoever raises the pin in setup.cfg knows what to
re-check in intake.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiosmtpd
import aiosmtpd.smtp
import pytest

from listserv import lists
from listserv.intake import IntakeHandler, protocol_factory

SETUP_CFG = Path(__file__).resolve().parents[2] / "setup.cfg"
# What intake overrides or calls on aiosmtpd.smtp.SMTP, private names first.
USED = ["_set_post_data_state", "_call_handler_hook", "_reset_timeout", "_timeout_cb", "check_helo_needed",
        "check_auth_needed", "push", "smtp_DATA", "smtp_MAIL", "smtp_RCPT", "connection_made", "connection_lost",
        "data_received", "line_length_limit"]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


@pytest.mark.parametrize("name", USED)
def test_aiosmtpd_smtp_still_has_what_intake_uses(name):
    """Every SMTP method or attribute intake overrides or calls is still there."""
    assert hasattr(aiosmtpd.smtp.SMTP, name), (
        f"aiosmtpd {aiosmtpd.__version__} has no SMTP.{name}, which listserv/intake.py relies on: "
        "re-check intake's smtp_DATA and overrides against this aiosmtpd before changing the pin in setup.cfg"
    )


def test_aiosmtpd_still_has_missing():
    """intake tells a handler that returned nothing by aiosmtpd.smtp.MISSING."""
    assert hasattr(aiosmtpd.smtp, "MISSING"), (
        f"aiosmtpd {aiosmtpd.__version__} has no aiosmtpd.smtp.MISSING, which listserv/intake.py's smtp_DATA uses"
    )


async def test_a_live_session_has_the_private_reader(store, settings):
    """On a real loopback session, the protocol keeps its stream in _reader, which intake's DATA reads from."""
    await lists.create(store, "team@example.org")
    made = []
    factory = protocol_factory(IntakeHandler(store, settings), settings, "lists.test")

    def recording():
        made.append(factory())
        return made[-1]

    server = await asyncio.get_running_loop().create_server(recording, host="127.0.0.1", port=0)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
    try:
        assert (await reader.readline()).startswith(b"220")
        assert isinstance(getattr(made[0], "_reader", None), asyncio.StreamReader), (
            f"aiosmtpd {aiosmtpd.__version__} no longer keeps a session's stream in SMTP._reader, "
            "which listserv/intake.py's smtp_DATA passes to read_data"
        )
    finally:
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()


def test_the_installed_aiosmtpd_is_within_the_pin():
    """setup.cfg pins aiosmtpd to one minor version, and the one installed is inside it."""
    line = next(line.strip() for line in SETUP_CFG.read_text().splitlines() if line.strip().startswith("aiosmtpd"))
    low, high = re.fullmatch(r"aiosmtpd>=([\d.]+),<([\d.]+)", line).groups()
    installed = _version(aiosmtpd.__version__)
    assert _version(low) <= installed < _version(high), (
        f"aiosmtpd {aiosmtpd.__version__} is installed but setup.cfg pins {line!r}: "
        "run tests/intake against it and re-check intake's use of aiosmtpd's private names"
    )
    assert _version(high)[:1] == _version(low)[:1] and _version(high)[1] == _version(low)[1] + 1, (
        f"setup.cfg's {line!r} spans more than one minor version of aiosmtpd"
    )
