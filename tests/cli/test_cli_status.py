"""`listserv status` in-process: per-list counts, delivery health, exit codes, --json fields, no subjects.

The server here is either the real daemon run in the test process (the
`server` fixture, which writes the state file status reads) or this process
listening on a loopback socket and named by a state file (`listening`), so
that queued batches are not delivered while a test looks at them. The
subprocess tests in test_cli_status_serve.py cover `serve` as its own process.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time

import pytest

from listserv import lists, runstate, status
from listserv.store import held as store_held
from listserv.store import outbound, pending
from tests.e2e.helpers import LIST, make_list, message, send

SECRET = "[CONFIDENTIAL] Client Jones juvenile record"
LIST_FIELDS = {"address", "members", "held", "pending", "queued", "queued_recipients", "failing", "failing_since",
               "last_error", "last_post_at"}
SERVER_FIELDS = {"state", "running", "pid", "host", "port", "protocol", "started_at", "state_file"}
TOP_FIELDS = {"status", "attention", "server", "config", "database", "database_bytes", "lists", "checked_at"}


async def seed(store, *, failing: bool) -> None:
    """A held confidential post, a waiting request and two queued batches (one failing when asked)."""
    mlist = await lists.get(store, LIST)
    item = {"sender": "x@example.net", "subject": SECRET, "reasons": [{"rule": "nonmember", "text": "not a member"}],
            "raw": b"Subject: secret\r\n\r\nsecret\r\n", "confidential": True, "received_at": time.time()}
    await store.write(store_held.hold, mlist.id, item)
    now = time.time()
    await store.write(pending.add, mlist.id, {"address": "dee@example.org", "requested_at": now, "confirmed_at": now})
    later = now + 86400  # not due: the running daemon leaves the batches alone
    await store.write(outbound.enqueue, mlist.id, "team-bounces@example.org", b"Subject: x\r\n\r\nx\r\n",
                      ["ann@example.org", "bob@example.org", "cy@example.org"], 2)
    batches = await outbound.listing(store.db)
    await store.write(outbound.settle, batches[0]["id"], ["ann@example.org", "bob@example.org"], later,
                      "451 4.3.0 smarthost says try later" if failing else "")
    await store.write(outbound.settle, batches[1]["id"], ["cy@example.org"], later, "")


async def status_json(cli) -> tuple[int, dict]:
    result = await cli("status", "--json")
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def listening(settings):
    """A server stand-in: this process, listening on a loopback port, named by a state file."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        state_for(settings, port, os.getpid())
        yield port


async def test_running_server_shows_pid_address_and_last_post(server, cli):
    """With the real daemon up: exit 0, its pid and address, and the post it just received as the last post."""
    await make_list(cli)
    await send(server.port, message("ann@example.org", "Hello"), "ann@example.org")
    deadline = time.monotonic() + 10
    while (found := (await status_json(cli))[1])["lists"][0]["last_post_at"] is None:
        assert time.monotonic() < deadline, "the post never reached the pipeline"
        await asyncio.sleep(0.05)
    code, found = await status_json(cli)
    assert code == 0 and found["status"] == "ok" and found["attention"] == []
    assert set(found) == TOP_FIELDS and set(found["server"]) == SERVER_FIELDS
    assert found["server"]["state"] == "running" and found["server"]["running"] is True
    assert found["server"]["pid"] == os.getpid() and found["server"]["port"] == server.port
    assert found["server"]["protocol"] == "SMTP" and found["server"]["started_at"].endswith("Z")
    assert found["database"] == os.path.abspath(server.settings.storage.database) and found["database_bytes"] > 0
    assert found["lists"][0]["last_post_at"].endswith("Z")


async def test_counts_of_every_list(listening, cli, store):
    """Members, held posts, waiting requests, queued batches and recipients, failing batches and the last error."""
    await make_list(cli)
    assert (await cli("lists", "create", "quiet@example.org")).exit_code == 0
    await seed(store, failing=True)
    code, found = await status_json(cli)
    assert code == 0
    team, quiet = sorted(found["lists"], key=lambda row: row["address"] != LIST)
    assert set(team) == LIST_FIELDS
    assert (team["address"], team["members"], team["held"], team["pending"]) == (LIST, 3, 1, 1)
    assert (team["queued"], team["queued_recipients"], team["failing"]) == (2, 3, 1)
    assert team["last_error"] == "451 4.3.0 smarthost says try later"
    assert team["failing_since"].endswith("Z")
    assert quiet == {"address": "quiet@example.org", "members": 0, "held": 0, "pending": 0, "queued": 0,
                     "queued_recipients": 0, "failing": 0, "failing_since": None, "last_error": None,
                     "last_post_at": None}
    quiet_text = (await cli("status")).stdout.split("quiet@example.org\n")[1]
    assert "deliveries queued:  none" in quiet_text and "last post received: never" in quiet_text


async def test_last_post_counts_posts_whatever_their_fate(server, cli):
    """A rejected non-member post is a post the list received: status shows its time, in CET for people."""
    await make_list(cli)
    assert (await cli("lists", "set", LIST, "nonmember_action", "reject")).exit_code == 0
    before = time.time()
    await send(server.port, message("stranger@example.net", "Let me in"), "stranger@example.net")
    deadline = time.monotonic() + 10
    while (found := (await status_json(cli))[1])["lists"][0]["last_post_at"] is None:
        assert time.monotonic() < deadline, "the post never reached the pipeline"
        await asyncio.sleep(0.05)
    assert found["lists"][0]["held"] == 0 and found["lists"][0]["queued"] == 0
    assert time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(before - 1)) <= found["lists"][0]["last_post_at"]


async def test_deliveries_failing_over_an_hour_need_attention(listening, cli, store, monkeypatch):
    """A batch failing for more than an hour: exit 1 and one line naming the list, how long and the error."""
    await make_list(cli)
    await seed(store, failing=True)
    real = time.time
    monkeypatch.setattr(status, "clock", lambda: real() + 2 * 3600 + 60)
    result = await cli("status")
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first == f"needs attention: {LIST}: deliveries failing for 2 hours: 451 4.3.0 smarthost says try later"
    code, found = await status_json(cli)
    assert code == 1 and found["status"] == "attention" and len(found["attention"]) == 1


async def test_waiting_batches_without_error_are_not_failing(listening, cli, store, monkeypatch):
    """Queued batches that have not failed are not a delivery problem, however old."""
    await make_list(cli)
    await seed(store, failing=False)
    real = time.time
    monkeypatch.setattr(status, "clock", lambda: real() + 5 * 86400)
    code, found = await status_json(cli)
    assert code == 0 and found["lists"][0]["failing"] == 0 and found["lists"][0]["last_error"] is None


async def test_no_subject_or_body_in_status(listening, cli, store):
    """A held confidential post is counted; its subject and text appear in neither output."""
    await make_list(cli)
    await seed(store, failing=True)
    for args in (("status",), ("status", "--json")):
        result = await cli(*args)
        assert "Jones" not in result.stdout and "secret" not in result.stdout.lower()


async def test_human_output_reads_as_sentences(listening, cli, store):
    """The person's view: 'all is well', the server line, the files, then each list's figures in words."""
    await make_list(cli)
    await seed(store, failing=True)
    result = await cli("status")
    lines = result.stdout.splitlines()
    assert lines[0] == "all is well"
    assert lines[2].startswith(f"server:        running, process {os.getpid()}, listening on 127.0.0.1:{listening}"
                               " (SMTP) since ")
    assert lines[2].endswith(" UTC")
    assert lines[3].startswith("configuration: ") and lines[3].endswith("listserv.toml")
    assert lines[4].startswith("database:      ") and "KB)" in lines[4]
    text = "\n".join(lines[6:])
    assert text.startswith(LIST)
    for expected in ("members:            3", "held posts:         1", "waiting to join:    1",
                     "deliveries queued:  3 recipients in 2 batches",
                     "deliveries failing: 1 batch since ", "last error: 451 4.3.0 smarthost says try later",
                     "last post received: never"):  # seeded rows; posts the pipeline saw are marked
        assert expected in text


async def test_times_are_local_for_people_and_utc_in_json(listening, cli, settings, time_zone):
    """In a CET server, people read CET times; --json keeps UTC ISO 8601."""
    time_zone("CET-1CEST,M3.5.0,M10.5.0/3")
    await make_list(cli)
    result = await cli("status")
    started = runstate.read(settings.storage.database).started_at
    assert f"since {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))} CE" in result.stdout
    _, found = await status_json(cli)
    assert found["server"]["started_at"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))


def state_for(settings, port: int, pid: int) -> None:
    runstate.write(settings.storage.database, runstate.RunState(pid, "127.0.0.1", port, "SMTP", time.time()))


def test_stopped_server_needs_attention(listserv):
    """No state file: the server is not running, exit 1, the first line says so."""
    result = listserv("status")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "needs attention: the server is not running (start it with `listserv serve`)"
    assert "server:        not running" in result.stdout
    found = json.loads(listserv("status", "--json").stdout)
    assert found["server"]["state"] == "stopped" and found["server"]["pid"] is None


def test_process_alive_but_not_listening(listserv, settings):
    """A live process whose address refuses connections is 'not answering': exit 1, naming pid and address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connections are refused
        state_for(settings, port, os.getpid())
        result = listserv("status")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        f"needs attention: the server process {os.getpid()} runs but does not answer on 127.0.0.1:{port}")


def test_state_file_of_a_dead_process_is_a_crash(listserv, settings):
    """A state file whose pid is gone (kill -9, power loss) is reported as a crash, not as running."""
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    state_for(settings, 8025, dead)
    result = listserv("status")
    assert result.exit_code == 1
    assert f"process {dead} ended without stopping cleanly" in result.stdout.splitlines()[0]
    assert json.loads(listserv("status", "--json").stdout)["server"]["state"] == "crashed"


def test_unreadable_state_file_counts_as_stopped(listserv, settings):
    """A state file that is not ours (garbage) does not make status fail: the server counts as not running."""
    runstate.path_for(settings.storage.database).write_text("not json")
    result = listserv("status", "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)["server"]["state"] == "stopped"


def test_names_the_configuration_file_in_use(listserv, config_path):
    """--json names the configuration file that was read, as an absolute path."""
    found = json.loads(listserv("status", "--json").stdout)
    assert found["config"] == str(config_path.absolute())


async def test_built_in_defaults_are_named_as_such(store, settings):
    """When no configuration file was found, the person's view says the built-in defaults are in use."""
    found = await status.report(store, settings, None)
    assert "configuration: none found: built-in defaults" in status.as_text(found)
    assert status.as_json(found)["config"] is None


def test_a_server_on_every_address_is_asked_on_loopback(listserv, settings):
    """host = "0.0.0.0" in the state file: status connects to 127.0.0.1 on that port and finds it running."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        runstate.write(settings.storage.database, runstate.RunState(os.getpid(), "0.0.0.0", port, "LMTP", time.time()))
        result = listserv("status")
    assert result.exit_code == 0
    assert f"listening on 0.0.0.0:{port} (LMTP)" in result.stdout
