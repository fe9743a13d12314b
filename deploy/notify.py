#!/usr/bin/env python3
"""Mail a failed crawl's run report to its operator (standard library only).

Two ways to call it (deploy/README.md):

- as the crawl's NOTIFY_COMMAND (`-s NOTIFY_COMMAND=/opt/sources/deploy/notify.py`): the
  report's JSON comes on standard input, its path in SOURCES_RUN_REPORT;
- from systemd's OnFailure= unit (deploy/sources-crawl-failed.service), which also catches a
  crawl that died without a report (killed at TimeoutStartSec, out of memory):
  `notify.py --unit sources-crawl.service --latest /srv/archive` mails the newest report in
  /srv/archive/runs/ and the unit's last journal lines.

The mail goes to SOURCES_MAILTO (or --to; default: the local `root`) through `sendmail -t -oi`
(any MTA provides it: postfix, exim, msmtp-mta, nullmailer; SOURCES_SENDMAIL names another).
Without sendmail the message is printed to standard error (the journal) and the exit status
is 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path
from typing import Any


def newest_report(archive: Path) -> tuple[dict[str, Any] | None, Path | None]:
    """The newest runs/<id>.json of an archive (None when there is none)."""
    runs = sorted((archive / "runs").glob("*.json"), reverse=True)
    for path in runs:
        try:
            return json.loads(path.read_text(encoding="utf-8")), path
        except (OSError, ValueError):
            continue
    return None, None


def journal(unit: str, lines: int = 30) -> str:
    """The unit's last journal lines, when journalctl is there."""
    if not shutil.which("journalctl"):
        return ""
    done = subprocess.run(
        ["journalctl", "-u", unit, "-n", str(lines), "--no-pager", "-o", "short-iso"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return done.stdout


def message(
    report: dict[str, Any] | None, path: str, unit: str | None, to: str, log: str
) -> EmailMessage:
    """The mail: what failed, where, why, and where the full report is."""
    host = socket.gethostname()
    mail = EmailMessage()
    mail["To"] = to
    mail["From"] = f"sources crawler <{os.environ.get('USER', 'sources')}@{host}>"
    if report is not None:
        kinds = ", ".join(report.get("failure_kinds") or []) or "no verdict"
        subject = f"sources crawl failed on {host}: exit {report.get('exit_code')} ({kinds})"
    else:
        subject = f"sources crawl failed on {host}: no run report"
    if unit:
        subject = f"{unit}: {subject}"
    mail["Subject"] = subject
    body = [subject, ""]
    if report is not None:
        body += [f"- {why}" for why in report.get("failed") or []] or ["(the report names none)"]
        links = report.get("links") or {}
        body += [
            "",
            f"run {report.get('run')}: started {report.get('started')}, finished "
            f"{report.get('finished')}, {report.get('seconds')} s"
            + (f", Scrapyd job {report['job']}" if report.get("job") else ""),
            f"links scheduled {links.get('scheduled', 0)}: archived {links.get('archived', 0)}, "
            f"failed {links.get('failed', 0)}, blocked {links.get('blocked', 0)}, "
            f"gone {links.get('gone', 0)}",
            f"full report: {path or '(not written)'}",
        ]
    if log:
        body += ["", f"last lines of {unit}'s journal:", log]
    mail.set_content("\n".join(body) + "\n")
    return mail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--to", default=os.environ.get("SOURCES_MAILTO", "root"))
    parser.add_argument("--latest", metavar="ARCHIVE_DIR", help="mail the newest run report")
    parser.add_argument("--unit", help="the systemd unit that failed (OnFailure=)")
    args = parser.parse_args(argv)
    if args.latest:
        report, found = newest_report(Path(args.latest))
        path = str(found or "")
    else:
        report = json.loads(sys.stdin.read() or "null")
        path = os.environ.get("SOURCES_RUN_REPORT", "")
    mail = message(report, path, args.unit, args.to, journal(args.unit) if args.unit else "")
    sendmail = (
        shutil.which(os.environ["SOURCES_SENDMAIL"])
        if os.environ.get("SOURCES_SENDMAIL")
        else shutil.which("sendmail") or shutil.which("sendmail", path="/usr/sbin:/usr/lib")
    )
    if sendmail is None:
        print(f"notify: no sendmail here; the message was:\n{mail}", file=sys.stderr)
        return 1
    done = subprocess.run(
        [sendmail, "-t", "-oi"],
        input=mail.as_bytes(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        print(f"notify: sendmail exited {done.returncode}: {done.stderr.decode()}", file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
