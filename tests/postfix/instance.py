"""A private Postfix: its own config and queue directories in a temp dir, loopback only, free ports, no chroot.

Made as Debian's postfix package allows a second instance: `postfix -c DIR
start-fg` with main.cf and master.cf of our own in DIR (the package's files
are neither read nor changed). Its SMTP listener takes mail for the list
domains and hands list addresses to listserv over LMTP (the transport map
that `listserv postfix-maps --write` produced); everything else goes to the
capturing sink. stop() always leaves no Postfix process behind.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
REAPER = Path(__file__).resolve().parent / "reaper.py"  # runs start-fg and reaps every process of the instance
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0

# master.cf: every service this instance needs, none chrooted (columns: service type private unpriv chroot
# wakeup maxproc command). The SMTP listener is added with its port.
SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def available() -> str:
    """Why a private Postfix cannot run here, or '' when it can."""
    if not Path(POSTFIX).exists():
        return "Postfix is not installed (Debian package postfix; .ci/run installs it)"
    if os.geteuid() != 0:
        return "a Postfix instance must be started as root"
    try:
        pwd.getpwnam("postfix")
    except KeyError:
        return "the postfix user does not exist (install the Debian package postfix)"
    return ""


class Postfix:
    """One running private instance; start() then stop() (stop is safe to call after a failed start)."""

    def __init__(self, smtp_port: int, sink_port: int, maps_dir: Path | None = None, xverp: bool = True) -> None:
        # Short path under /tmp: Postfix's unix sockets live below the queue directory (108-byte limit),
        # and the postfix user must be able to enter it (pytest's tmp_path is 0700).
        self.root = Path(tempfile.mkdtemp(prefix="lspf", dir="/tmp"))
        os.chmod(self.root, 0o755)
        self.conf = self.root / "conf"
        self.maps_dir = maps_dir or self.conf
        self.smtp_port = smtp_port
        self.sink_port = sink_port
        self.log_path = self.root / "maillog"
        self.xverp = xverp  # offer XVERP to loopback clients (smtpd_authorized_verp_clients)
        self._process: subprocess.Popen | None = None

    def main_cf(self) -> str:
        sink = f"smtp:[127.0.0.1]:{self.sink_port}"
        return "\n".join([
            "compatibility_level = 3.6",
            f"queue_directory = {self.root / 'queue'}",
            f"data_directory = {self.root / 'data'}",
            "inet_interfaces = loopback-only",
            "inet_protocols = ipv4",
            "myhostname = mx.postfix.test",
            "mydestination =",
            "alias_maps =",
            "alias_database =",
            "local_recipient_maps =",
            f"relay_domains = {self.maps_dir / 'listserv_domains'}",
            f"transport_maps = regexp:{self.maps_dir / 'listserv_transport'}",
            f"default_transport = {sink}",
            f"relay_transport = {sink}",
            "smtp_tls_security_level = none",
            "smtpd_tls_security_level = none",
            "recipient_delimiter = +",
            "mynetworks = 127.0.0.0/8",
            f"smtpd_authorized_verp_clients = {'127.0.0.0/8' if self.xverp else ''}",
            "maillog_file = /dev/stdout",
            "queue_run_delay = 1s",
            "minimal_backoff_time = 1s",
            "maximal_backoff_time = 2s",
            "smtp_connection_cache_on_demand = no",
            "lmtp_connection_cache_on_demand = no",
            "",
        ])

    def master_cf(self) -> str:
        return f"127.0.0.1:{self.smtp_port} inet  n       -       n       -       -       smtpd\n" + SERVICES

    def start(self) -> None:
        """Write the configuration, start `postfix start-fg`, wait until its SMTP port answers."""
        data = self.root / "data"
        for directory in (self.conf, self.root / "queue", data):
            directory.mkdir(exist_ok=True)
            os.chmod(directory, 0o755)  # whatever the umask (the daemon's is 077): the postfix user enters them
        account = pwd.getpwnam("postfix")
        os.chown(data, account.pw_uid, account.pw_gid)  # master.lock is taken as the postfix user
        for name, text in (("main.cf", self.main_cf()), ("master.cf", self.master_cf())):
            (self.conf / name).write_text(text)
            os.chmod(self.conf / name, 0o644)
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, str(REAPER), POSTFIX, "-c", str(self.conf), "start-fg"], stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, umask=0o022,  # the daemon runs with 077
            )
        self._wait_listening()

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"postfix exited with {self._process.returncode}: {self.log()[-2000:]}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.smtp_port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"postfix did not listen on {self.smtp_port} within {START_TIMEOUT}s: {self.log()[-2000:]}")

    def log(self) -> str:
        """What Postfix logged so far (one line per event: deliveries with status=, queue ids, nrcpt=)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        """`postfix stop`; whatever is left after that is killed; the reaper reaps all; the temp dir goes."""
        try:
            if self._process is not None:
                subprocess.run([POSTFIX, "-c", str(self.conf), "stop"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=STOP_TIMEOUT, check=False)
                if not self._ended():
                    self._kill_rest()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _ended(self) -> bool:
        """Whether the reaper exited (it does once every process of the instance is gone and reaped)."""
        try:
            self._process.wait(timeout=STOP_TIMEOUT)
            return True
        except subprocess.TimeoutExpired:
            return False

    def _kill_rest(self) -> None:
        """SIGKILL the instance's processes still alive, then the reaper itself if it does not end."""
        for pid in self.processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # ended meanwhile
        if not self._ended():
            self._process.kill()
            self._process.wait()

    def processes(self) -> list[int]:
        """Live processes of this instance: Postfix passes MAIL_CONFIG=<our config dir> to master and its children."""
        marker = f"MAIL_CONFIG={self.conf}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
                zombie = "State:\tZ" in (entry / "status").read_text()
            except OSError:
                continue  # ended meanwhile
            if marker in environ and not zombie:  # a zombie has ended; the reaper collects it
                found.append(int(entry.name))
        return found
