"""Start the pieces a benchmark needs as separate processes: the counting sink and the daemon.

The daemon runs exactly as an administrator runs it (`listserv --config F serve`),
with its database in a temporary directory and the sink as its smarthost.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from listserv import lists
from listserv.store import Store
from listserv.store import members as store_members

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sink:
    """The counting sink process; `received` grows as transactions arrive."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "sink.py"), str(self.port)], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout.readline().strip() == "ready"
        self.received = 0
        self.last_at = 0.0
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            count, at = line.split()
            with self._lock:
                self.received += int(count)
                self.last_at = float(at)

    def wait_for(self, total: int, timeout: float = 120.0) -> float:
        """Block until `total` recipients arrived; returns the time the last one did."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self._lock:
                if self.received >= total:
                    return self.last_at
            time.sleep(0.002)
        raise RuntimeError(f"sink got {self.received} of {total} recipients in {timeout}s")

    def reset(self) -> None:
        with self._lock:
            self.received = 0

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def write_config(workdir: Path, sink_port: int, daemon_port: int) -> Path:
    path = workdir / "listserv.toml"
    path.write_text(
        f'[server]\nport = {daemon_port}\nhostname = "bench.test"\n'
        f'[storage]\ndatabase = "{workdir / "listserv.db"}"\n'
        f'[delivery]\ntransport = "smtp://127.0.0.1:{sink_port}"\nmax_recipients = 500\nconnections = 4\n'
    )
    return path


async def _make_list(database: str, address: str, members: int) -> None:
    store = await Store.open(database)
    try:
        mlist = await lists.create(store, address, description="benchmark list")
        rows = [{"address": f"member{i:06d}@example.net", "name": f"Member {i}"} for i in range(members)]
        await store.write(store_members.add_many, mlist.id, rows)
    finally:
        await store.close()


def make_list(workdir: Path, address: str, members: int) -> None:
    """A list whose members are member000000@example.net ... (the sender is member000000)."""
    asyncio.run(_make_list(str(workdir / "listserv.db"), address, members))


class Daemon:
    """`listserv serve` as a subprocess, started and stopped like an administrator would."""

    def __init__(self, config: Path, port: int) -> None:
        self.port = port
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "import cli; cli.main()", "--config", str(config), "serve"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=HERE.parent,
        )
        line = self.proc.stdout.readline()
        if "serving" not in line:
            raise RuntimeError(f"daemon did not start: {line!r}")

    def peak_rss_mb(self) -> float:
        """VmHWM: the most resident memory the daemon itself has used so far."""
        return _vm_hwm_mb(self.proc.pid)

    def server_peak_rss_mb(self) -> float:
        """VmHWM (the most resident memory used so far) of the daemon plus that of each of its child processes
        (the pipeline): an upper bound of the peak of all the server's processes together."""
        return sum(_vm_hwm_mb(pid) for pid in (self.proc.pid, *_children(self.proc.pid)))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


class PssSampler:
    """Samples the proportional set size (PSS) of the daemon and its children every `every` seconds in a
    thread, keeping the largest sum: their memory with what they share (the interpreter's libraries, libcrypto,
    libsqlite) counted once, which summing their RSS counts twice. The kernel keeps no peak of PSS."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid, self.every, self.peak_mb = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                total = sum(_pss_mb(pid) for pid in (self.pid, *_children(self.pid)))
            except (OSError, ValueError):  # a process ended between the listing and the reading
                total = 0.0
            self.peak_mb = max(self.peak_mb, total)
            self._stop.wait(self.every)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


def _pss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def post(sender: str, to: str, subject: str, size: int = 5000, n: int = 0) -> bytes:
    """A plain-text post of about `size` bytes."""
    head = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <bench-{n}-{time.time_ns()}@example.net>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    line = "The mitigation report needs the school records and the family history.\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    return (head + body).encode()


def env_note() -> str:
    return f"cores={os.cpu_count()}"


def figure(name: str, value: float | int, unit: str) -> None:
    """One benchmark line, `name value unit` (floats with three decimals), flushed so a watcher sees it at once."""
    print(f"{name} {value:.3f} {unit}" if isinstance(value, float) else f"{name} {value} {unit}", flush=True)
