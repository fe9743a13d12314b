"""Runs one command and reports the CPU time of its whole process tree (Linux).

    python -m bench.reaper OUT.json -- COMMAND [ARGS...]

This process becomes a child subreaper, so descendants orphaned by their parent (a forkserver
and the pool workers it forked) are reparented here and reaped; getrusage(RUSAGE_CHILDREN) then
counts every descendant's CPU time. OUT.json gets rc, wall, user, sys (seconds, whole tree)
and main_cpu (the command's own process, with the descendants it waited for itself).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36
#: Seconds to wait for orphaned descendants to exit once the command has ended.
REAP_GRACE = 30.0


def become_subreaper() -> bool:
    """Ask Linux to reparent orphaned descendants to this process; False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children(pid: int) -> list[int]:
    """Pids whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def reap_all(grace: float) -> None:
    """Wait for every remaining child; after `grace` seconds, kill the ones still alive."""
    deadline = time.monotonic() + grace
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid:
            continue
        if time.monotonic() > deadline:
            for child in _children(os.getpid()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.02)


def main() -> int:
    """Run the command after `--`, then write its tree's usage to OUT.json."""
    out, sep, *command = sys.argv[1:]
    if sep != "--" or not command:
        sys.exit("usage: python -m bench.reaper OUT.json -- COMMAND [ARGS...]")
    subreaper = become_subreaper()
    started = time.perf_counter()
    child = subprocess.Popen(command)
    _pid, status, own = os.wait4(child.pid, 0)  # the command's own process (+ what it reaped)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    reap_all(REAP_GRACE)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    Path(out).write_text(
        json.dumps(
            {
                "rc": child.returncode,
                "wall": wall,
                "user": usage.ru_utime,
                "sys": usage.ru_stime,
                "main_cpu": own.ru_utime + own.ru_stime,
                "subreaper": subreaper,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
