"""deploy/: the systemd units, the crontab line, and the Scrapyd egg are usable as shipped."""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from crawler import settings as project_settings
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
SERVICE = DEPLOY / "sources-crawl.service"
TIMER = DEPLOY / "sources-crawl.timer"
FAILED = DEPLOY / "sources-crawl-failed.service"


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file as {section: {key: [values]}} (keys may repeat, as systemd allows)."""
    units: dict[str, dict[str, list[str]]] = {}
    section = None
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = pending + raw.strip()
        pending = ""
        if not line or line[0] in "#;":
            continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if line.startswith("["):
            assert line.endswith("]"), f"{path.name}: bad section line {line!r}"
            section = line[1:-1]
            assert section not in units, f"{path.name}: section [{section}] twice"
            units[section] = {}
            continue
        assert section, f"{path.name}: {line!r} outside any section"
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", key.strip()), f"bad line {line!r}"
        units[section].setdefault(key.strip(), []).append(value.strip())
    return units


def one(unit: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    values = unit.get(section, {}).get(key)
    assert values, f"[{section}] {key}= missing"
    return values[-1]


def exec_start() -> list[str]:
    return shlex.split(one(parse_unit(SERVICE), "Service", "ExecStart"))


def test_service_runs_the_crawl_hardened():
    unit = parse_unit(SERVICE)
    assert set(unit) == {"Unit", "Service"}  # started by the timer only: no [Install]
    assert one(unit, "Unit", "Description")
    assert "network-online.target" in one(unit, "Unit", "After")
    assert one(unit, "Service", "Type") == "oneshot"
    assert one(unit, "Service", "User") not in ("root", "0")
    workdir = one(unit, "Service", "WorkingDirectory")
    argv = exec_start()
    assert argv[0].startswith(workdir + "/") and argv[0].endswith("/scrapy"), argv[0]
    assert argv[1:3] == ["crawl", "sources"]
    options = dict(zip(argv[3::2], argv[4::2], strict=True))
    assert set(options) == {"-a", "-s"}
    digests = options["-a"].removeprefix("digests=")
    archive = options["-s"].removeprefix("ARCHIVE_DIR=")
    assert digests.startswith("/") and archive.startswith("/")

    assert one(unit, "Service", "NoNewPrivileges") == "yes"
    assert one(unit, "Service", "ProtectSystem") == "strict"
    assert archive in one(unit, "Service", "ReadWritePaths").split()
    assert one(unit, "Service", "PrivateTmp") == "yes"
    assert re.fullmatch(r"\d+(h|min|s)?", one(unit, "Service", "TimeoutStartSec"))
    assert 0 < int(one(unit, "Service", "Nice")) <= 19


def test_timer_starts_the_service_nightly():
    unit = parse_unit(TIMER)
    assert set(unit) == {"Unit", "Timer", "Install"}
    assert one(unit, "Timer", "OnCalendar") == "*-*-* 02:30"
    assert one(unit, "Timer", "Persistent") == "true"
    assert one(unit, "Timer", "RandomizedDelaySec")
    assert one(unit, "Timer", "Unit") == SERVICE.name
    assert one(unit, "Install", "WantedBy") == "timers.target"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_analyze_verify(tmp_path):
    # verify insists that ExecStart's binary exists: point it at one that does.
    scrapy = shutil.which("scrapy", path=str(Path(sys.executable).parent)) or sys.executable
    for unit in (SERVICE, TIMER, FAILED):
        text = unit.read_text(encoding="utf-8").replace(exec_start()[0], scrapy)
        text = text.replace("/opt/sources/.venv/bin/python", sys.executable)
        (tmp_path / unit.name).write_text(text, encoding="utf-8")
    done = subprocess.run(
        [
            "systemd-analyze",
            "verify",
            "--man=no",
            tmp_path / TIMER.name,
            tmp_path / SERVICE.name,
            tmp_path / FAILED.name,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    ours = [line for line in (done.stdout + done.stderr).splitlines() if "sources-crawl" in line]
    assert done.returncode == 0 and not ours, done.stdout + done.stderr


def test_a_failed_crawl_starts_the_unit_that_tells_the_operator():
    assert one(parse_unit(SERVICE), "Unit", "OnFailure") == FAILED.name
    unit = parse_unit(FAILED)
    assert set(unit) == {"Unit", "Service"}
    assert one(unit, "Service", "Type") == "oneshot"
    assert one(unit, "Service", "User") not in ("root", "0")
    argv = shlex.split(one(unit, "Service", "ExecStart"))
    assert argv[1] == "/opt/sources/deploy/notify.py"
    options = dict(zip(argv[2::2], argv[3::2], strict=True))
    archive = dict(zip(exec_start()[3::2], exec_start()[4::2], strict=True))["-s"]
    assert options == {"--unit": SERVICE.name, "--latest": archive.removeprefix("ARCHIVE_DIR=")}


def test_the_failure_unit_mails_the_newest_run_report(tmp_path):
    """What OnFailure= runs, for real: notify.py --latest ARCHIVE_DIR, with a stand-in
    sendmail on PATH (and no journalctl)."""
    from crawler.archive import records

    runs = tmp_path / "archive" / "runs"
    runs.mkdir(parents=True)
    for n, failed in ((1, []), (2, ["archive unwritable: 1 write(s) failed, first: disk full"])):
        report = records.run_report(
            f"2026010{n}T023000Z-{n}",
            0.0,
            1.0,
            failed=failed,
            failure_kinds=["archive_unwritable"] if failed else [],
            exit_code=6 if failed else 0,
        )
        (runs / f"2026010{n}T023000Z-{n}.json").write_text(json.dumps(report))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mailbox = tmp_path / "mail"
    (bin_dir / "sendmail").write_text(f"#!/bin/sh\ncat > {mailbox}\n")
    (bin_dir / "sendmail").chmod(0o755)
    done = subprocess.run(
        [
            sys.executable,
            str(DEPLOY / "notify.py"),
            "--unit",
            SERVICE.name,
            "--latest",
            str(tmp_path / "archive"),
        ],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "SOURCES_MAILTO": "ops@example.org"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    mail = mailbox.read_text()
    assert "To: ops@example.org" in mail
    assert "Subject: sources-crawl.service: sources crawl failed on " in mail
    assert "exit 6 (archive_unwritable)" in mail
    assert "- archive unwritable: 1 write(s) failed, first: disk full" in mail
    assert "20260102T023000Z-2.json" in mail


def test_without_sendmail_the_message_goes_to_the_journal_and_it_exits_1(tmp_path):
    done = subprocess.run(
        [sys.executable, str(DEPLOY / "notify.py")],
        input=json.dumps(
            {
                "failed": ["no digest could be read"],
                "exit_code": 4,
                "failure_kinds": ["digests_unreadable"],
            }
        ),
        env={"PATH": str(tmp_path), "SOURCES_SENDMAIL": str(tmp_path / "no-sendmail")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "notify: no sendmail here" in done.stderr
    assert "- no digest could be read" in done.stderr


def test_crontab_line_runs_the_crawl():
    lines = [
        line
        for line in (DEPLOY / "crontab").read_text(encoding="utf-8").splitlines()
        if line.strip()
        and not line.lstrip().startswith("#")
        and not re.match(r"[A-Za-z_][A-Za-z0-9_]*\s*=", line)  # environment settings
    ]
    assert len(lines) == 1, lines
    fields = lines[0].split(None, 5)
    ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
    for field, (low, high) in zip(fields[:5], ranges, strict=True):
        for part in field.split(","):
            base, _, step = part.partition("/")
            assert not step or step.isdigit(), field
            if base != "*":
                bounds = [int(n) for n in base.split("-")]  # ValueError: not a time field
                assert all(low <= n <= high for n in bounds), field
    assert fields[:2] == ["30", "2"]
    command = fields[5]
    assert "%" not in command  # cron turns % into a newline
    assert "scrapy crawl sources -a digests=/srv/digests -s ARCHIVE_DIR=/srv/archive" in command
    assert re.search(r">>\s*\S+\s+2>&1", command), "the crawl's output goes to a log file"


def _not_built(directory: str, names: list[str]) -> set[str]:
    """What the egg build neither needs nor should see: caches, venvs, outputs, tests."""
    top = Path(directory) == REPO
    return {
        name
        for name in names
        if name in ("__pycache__", ".git", ".pytest_cache", ".ruff_cache")
        or name.endswith(".egg-info")
        or (top and name in (".venv", "venv", "archive", "build", "dist", "tests", "bench"))
        or (top and name in ("examples", "setup.py"))
    }


def test_scrapyd_egg_holds_the_project(tmp_path):
    work = tmp_path / "repo"
    shutil.copytree(REPO, work, ignore=_not_built)
    if (REPO / "setup.py").is_file():  # a setup.py of the project's own, not scrapyd-deploy's
        text = (REPO / "setup.py").read_text(encoding="utf-8")
        if "Automatically created by: scrapyd-deploy" not in text:
            (work / "setup.py").write_text(text, encoding="utf-8")
    egg = tmp_path / "sources.egg"
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # scrapyd-deploy leaves its build dir there
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-m", "scrapyd_client.deploy", "--build-egg", str(egg), "--debug"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and egg.is_file(), done.stdout[-3000:] + done.stderr[-3000:]

    with zipfile.ZipFile(egg) as z:
        names = set(z.namelist())
        entry_points = z.read("EGG-INFO/entry_points.txt").decode()
    for name in (
        "crawler/settings.py",
        "spiders/sources.py",
        "pipelines/store.py",
        "crawler/archive/store.py",
        "crawler/commands/crawl.py",
    ):
        assert name in names, f"{name} not in the egg ([tool.setuptools] packages?)"
    packages = {
        p.relative_to(REPO).as_posix()
        for top in ("crawler", "spiders", "pipelines")
        for p in (REPO / top).rglob("__init__.py")
    }
    assert packages <= names, f"packages missing from the egg: {sorted(packages - names)}"
    # Everything the settings name must be in the egg: Scrapyd has only the egg to import.
    modules = [project_settings.COMMANDS_MODULE, *project_settings.SPIDER_MODULES]
    for setting in (
        "ITEM_PIPELINES",
        "EXTENSIONS",
        "DOWNLOADER_MIDDLEWARES",
        "SPIDER_MIDDLEWARES",
        "DOWNLOAD_HANDLERS",
    ):
        for path in getattr(project_settings, setting, {}) or {}:
            if isinstance(path, str) and path.split(".")[0] in ("crawler", "spiders", "pipelines"):
                modules.append(path.rpartition(".")[0])
    for module in modules:
        assert importlib.util.find_spec(module), module
        base = module.replace(".", "/")
        assert {base + ".py", base + "/__init__.py"} & names, f"{module} not in the egg"

    parser = configparser.ConfigParser()
    parser.read_string(entry_points)
    assert parser.get("scrapy", "settings") == "crawler.settings"
