"""Run a command as a child subreaper and reap everything below it; exit with the command's status once all are gone.

Postfix's master leaves its children (qmgr, pickup, smtpd...) to be
re-parented when it stops; on a machine whose init does not reap, they would
stay as zombies. Under this wrapper they are re-parented to it instead and
reaped, so a stopped instance leaves no process entry at all.
Usage: python reaper.py COMMAND [ARG...]
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h


def main(command: list[str]) -> int:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    child = subprocess.Popen(command)
    status = None
    while True:
        try:
            pid, code = os.wait()  # the command, then every orphan re-parented to us
        except ChildProcessError:
            break  # nobody left
        if pid == child.pid:
            status = os.waitstatus_to_exitcode(code)
            child.returncode = status  # reaped here: keep Popen from waiting on it again
    return status if status is not None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
