"""Where ours spends its time: one crawl under py-spy (pool workers included), summarized.

    python -m bench.profile RAW.txt        # summarize an existing py-spy raw profile

`profile_ours` records `scrapy crawl sources` with `py-spy record --subprocesses --format raw`
(idle threads left out, so samples are time on a CPU) and writes a summary beside it: samples
per process role, and the functions with the most samples, on their own and with callees.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

from bench import scenarios

RATE = 100  # samples per second
_PROCESS = re.compile(r'process \d+:"(?P<cmd>.*?)"(?:;|$)')
_FRAME = re.compile(r"^(?P<func>.+) \((?P<file>[^()]*?)(?::\d+)?\)$")


def py_spy() -> str | None:
    """The py-spy executable (in this interpreter's bin folder or on PATH), if installed."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def role(command: str) -> str:
    """What a sampled process is, from its command line."""
    if "crawler.extractpool" in command or "forkserver" in command or "spawn_main" in command:
        return "extraction worker"
    if "resource_tracker" in command:
        return "resource tracker"
    if "scrapy" in command:
        return "crawl (reactor) process"
    return "other"


def _split(stack: str) -> tuple[str, list[str]]:
    """(role of the innermost process, frames outermost first) of one raw stack.

    A stack starts with one `process PID:"command"` part per process from the root down;
    a command may itself hold semicolons.
    """
    current, pos = "other", 0
    while match := _PROCESS.match(stack, pos):
        current, pos = role(match["cmd"]), match.end()
    return current, [f for f in stack[pos:].split(";") if f]


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "lib/python3", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match['func']} ({path})"


def summarize(raw: Path, top: int = 25, rate: int = RATE) -> str:
    """Samples per role, and the top functions by own and by inclusive samples per role."""
    own: dict[str, Counter[str]] = defaultdict(Counter)
    inclusive: dict[str, Counter[str]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        who, frames = _split(stack)
        n = int(count)
        totals[who] += n
        if frames:
            own[who][_short(frames[-1])] += n
        for name in {_short(f) for f in frames}:
            inclusive[who][name] += n
    out = [f"py-spy, {rate} samples/s, idle threads left out; {sum(totals.values())} samples", ""]
    for who, n in totals.most_common():
        out.append(f"{who}: {n} samples ({n / rate:.1f} s of CPU)")
    for who, _n in totals.most_common():
        if who in ("other", "resource tracker"):
            continue
        for title, counter in (("inclusive", inclusive[who]), ("own", own[who])):
            out += ["", f"== {who}: top {top} by {title} samples =="]
            total = totals[who] or 1
            out += [
                f"{c:7d} {100 * c / total:5.1f}%  {name}" for name, c in counter.most_common(top)
            ]
    return "\n".join(out) + "\n"


def profile_ours(
    digests: Path, archive: Path, out_dir: Path, settings: dict[str, str] | None = None
) -> str | None:
    """Record one crawl of ours into `out_dir`; the summary's path (None without py-spy)."""
    exe = py_spy()
    if exe is None:
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / "ours.pyspy.txt"
    shutil.rmtree(archive, ignore_errors=True)
    command = [
        exe,
        "record",
        "--subprocesses",
        "--rate",
        str(RATE),
        "--format",
        "raw",
        "--output",
        str(raw),
        "--",
        *scenarios.ours_command(digests, archive, settings),
    ]
    env = dict(os.environ, PYTHONPATH=str(scenarios.REPO))
    with (out_dir / "ours.log").open("wb") as log:
        subprocess.run(
            command, cwd=scenarios.REPO, env=env, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    if not raw.exists():
        return None
    summary = out_dir / "ours.summary.txt"
    summary.write_text(summarize(raw))
    return str(summary)


if __name__ == "__main__":
    sys.stdout.write(summarize(Path(sys.argv[1])))
