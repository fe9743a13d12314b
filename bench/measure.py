"""Measure one command: wall time, CPU of its process tree, peak RSS and PSS of the tree."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Seconds between memory samples of the process tree.
SAMPLE_INTERVAL = 0.1
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Usage:
    """What one run of a command cost."""

    rc: int
    wall: float  # seconds, from start to exit of the command
    cpu: float  # user + system seconds of the whole tree
    peak_rss: int  # bytes, highest sum of RSS over the tree's processes at one sample
    peak_pss: int  # bytes, the same with proportional set sizes (shared pages split)
    peak_procs: int  # most processes alive at once
    machine_cpu: float  # CPU seconds the whole machine spent meanwhile (any process)
    main_cpu: float  # CPU seconds of the command's own process (its pool workers excluded)


def machine_busy() -> float:
    """CPU seconds the machine has spent busy since boot (all cores, from /proc/stat)."""
    try:
        with open("/proc/stat", "rb") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _parents() -> dict[int, int]:
    """pid -> parent pid for every process (from /proc)."""
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        out[int(entry.name)] = int(stat.rsplit(b")", 1)[1].split()[1])
    return out


def descendants(root: int) -> list[int]:
    """Every process below `root` (not `root` itself)."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in bytes; (0, 0) when it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith(b"Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                rss = int(fh.read().split()[1]) * _PAGE
        except OSError:
            return 0, 0
        pss = rss
    return rss, pss


class _Sampler(threading.Thread):
    """Samples the memory of a process tree until stopped."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root = root
        self.peak_rss = self.peak_pss = self.peak_procs = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_INTERVAL):
            pids = descendants(self.root)
            sizes = [memory(pid) for pid in pids]
            self.peak_rss = max(self.peak_rss, sum(s[0] for s in sizes))
            self.peak_pss = max(self.peak_pss, sum(s[1] for s in sizes))
            self.peak_procs = max(self.peak_procs, sum(1 for s in sizes if s[0]))


def run(
    command: list[str],
    *,
    log: Path,
    cwd: Path = REPO,
    timeout: float = 3600,
    env: dict[str, str] | None = None,
) -> Usage:
    """Run `command` under bench.reaper, sampling its tree; its output goes to `log`."""
    env = dict(env or os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as tmp, log.open("wb") as out:
        result = Path(tmp) / "usage.json"
        busy = machine_busy()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.reaper", str(result), "--", *command],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        sampler = _Sampler(proc.pid)
        sampler.start()
        try:
            proc.wait(timeout=timeout)
        finally:
            sampler.done.set()
            busy = machine_busy() - busy
            sampler.join()
            if proc.poll() is None:  # timed out: end the tree we started, leaves first
                for pid in [*reversed(descendants(proc.pid)), proc.pid]:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                proc.wait()
        data = json.loads(result.read_text())
    return Usage(
        rc=data["rc"],
        wall=data["wall"],
        cpu=data["user"] + data["sys"],
        peak_rss=sampler.peak_rss,
        peak_pss=sampler.peak_pss,
        peak_procs=sampler.peak_procs,
        machine_cpu=busy,
        main_cpu=data.get("main_cpu", 0.0),
    )
