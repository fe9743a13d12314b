"""End to end, as an operator runs it: the log a person reads, feed exports, bad settings and
arguments at start, exit codes, and a failed run reaching its operator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    CRAWL_ENV,
    REPO,
    SHARED,
    article_html,
    citations,
    crawl_args,
    quick_digest,
    run_crawl,
    sentences,
    verify,
)

#: Hosts that never resolve (RFC 6761), online or not.
UNRESOLVABLE = [f"https://news{n % 8}.invalid/a/{n}.html" for n in range(12)]


def _lines(text: str) -> list[str]:
    """Log records (a record's first line starts with the date)."""
    return [line for line in text.splitlines() if re.match(r"\d{4}-\d\d-\d\d \d\d:", line)]


def test_without_network_info_has_one_line_per_link_and_says_the_network_is_down(
    tmp_path: Path,
) -> None:
    digests = quick_digest(
        tmp_path / "d" / "offline.md", [(f"第{i}条", u) for i, u in enumerate(UNRESOLVABLE)]
    )
    result = run_crawl(tmp_path / "archive", digests, ROBOTSTXT_OBEY="True", timeout=120)
    log = result.stderr
    assert result.returncode == 8, log[-3000:]  # NETWORK_UNREACHABLE
    assert "Traceback" not in log
    assert "DNS lookup failed: DNS lookup failed" not in log
    records = _lines(log)
    for url in UNRESOLVABLE:  # the outcome line, once; robots.txt failures folded into it
        mine = [r for r in records if url in r]
        assert len(mine) == 1, mine
        assert "failed (DNS lookup failed: no results for hostname lookup" in mine[0]
    warnings = [r for r in records if "WARNING: network looks unreachable" in r]
    assert len(warnings) == 1, warnings
    # what a person reads beyond Scrapy's own start-up and stats dumps: the links, and a
    # handful of lines around them
    dumps = re.compile(r"\[scrapy\.(utils\.log|middleware|crawler|addons|statscollectors)\]")
    ours = [r for r in records if not dumps.search(r)]
    assert len(ours) <= len(UNRESOLVABLE) + 10, "\n".join(ours)
    report = json.loads(next((tmp_path / "archive" / "runs").glob("*.json")).read_text())
    assert report["failure_kinds"] == ["network_unreachable"] and report["exit_code"] == 8

    debug = run_crawl(tmp_path / "archive2", digests, ROBOTSTXT_OBEY="True", LOG_LEVEL="DEBUG")
    # DEBUG keeps the detail: robots.txt's download errors, with their tracebacks
    assert "[scrapy.downloadermiddlewares.robotstxt] DEBUG: Error downloading" in debug.stderr
    assert "Traceback" in debug.stderr


def _serve(server: Any, n: int) -> list[str]:
    urls = []
    for i in range(n):
        server.expect_request(f"/p/{i}.html").respond_with_data(
            article_html(f"导出第{i}篇", sentences(f"导出{i}", 3)),
            content_type="text/html; charset=utf-8",
        )
        urls.append(server.url_for(f"/p/{i}.html"))
    return urls


def test_a_feed_export_writes_useful_json_lines(robots_ok: Any, tmp_path: Path) -> None:
    """`-O items.jsonl` (and FEEDS, which Scrapyd's items_dir sets) as Scrapy users run it."""
    urls = _serve(robots_ok, 3)
    digests = quick_digest(
        tmp_path / "d" / "feed.md", [(f"第{i}篇", u) for i, u in enumerate(urls)]
    )
    feed = tmp_path / "items.jsonl"
    args = [*crawl_args(tmp_path / "archive", digests), "-O", str(feed)]
    done = subprocess.run(
        args, cwd=REPO, env=CRAWL_ENV, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "not JSON serializable" not in done.stderr and "Traceback" not in done.stderr
    items = [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]
    digests_read = [i for i in items if "digest" in i]
    fetches = [i for i in items if "link_id" in i]
    assert len(digests_read) == 1 and len(fetches) == 3
    (digest,) = digests_read
    assert digest["digest"]["id"] == "feed" and digest["raw"] == digests.stat().st_size
    assert len(digest["digest"]["entries"]) == 3
    for item in fetches:
        assert item["status"] == "archived" and item["article_id"]
        assert item["canonical_url"] in urls and item["http_status"] == 200
        assert isinstance(item["body"], int) and item["body"] > 1000  # its length, not bytes
        assert item["extracted"]["title"].startswith("导出第")
        assert item["original"]["warc"].startswith("warc/")

    feeds = json.dumps({str(tmp_path / "feeds" / "%(name)s.jl"): {"format": "jsonlines"}})
    again = run_crawl(tmp_path / "archive3", digests, FEEDS=feeds)
    assert again.returncode == 0, again.stderr[-3000:]
    lines = (tmp_path / "feeds" / "sources.jl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 4


def test_a_bad_setting_is_one_line_and_leaves_no_lock(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    digests = REPO / "examples" / "digests"
    first = run_crawl(archive, digests, MAX_ERROR_RATE="abc", timeout=60)
    assert first.returncode == 2
    assert first.stderr.strip().splitlines()[-1] == (
        "error: setting MAX_ERROR_RATE='abc': expected a number from 0 to 1"
    )
    assert "Traceback" not in first.stderr
    assert not archive.exists()  # nothing was opened

    archive.mkdir()
    (archive / "archive.json").write_text('{"schema": "sources-archive", "schema_version": 1}')
    typo = subprocess.run(
        [*crawl_args(archive, digests), "-a", "digest=other.md"],
        cwd=REPO,
        env=CRAWL_ENV,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert typo.returncode == 2
    assert "unknown spider argument -a digest=... (did you mean -a digests=?)" in typo.stderr
    assert not (archive / "crawl.lock").exists() or (archive / "crawl.lock").read_text() == ""
    assert not (archive / "digests").exists()  # the example digests were not crawled
    (report,) = [json.loads(p.read_text()) for p in (archive / "runs").glob("*.json")]
    assert report["failure_kinds"] == ["usage"] and report["exit_code"] == 2


def test_a_failing_nightly_run_reaches_its_operator_through_deploy_notify(
    tmp_path: Path,
) -> None:
    """deploy/notify.py as NOTIFY_COMMAND, with a stand-in `sendmail` on PATH: the mail it
    hands over names the host, the exit code and why the run failed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mailbox = tmp_path / "mail.txt"
    sendmail = bin_dir / "sendmail"
    sendmail.write_text(f'#!/bin/sh\necho "ARGS: $*" > {mailbox}\ncat >> {mailbox}\n')
    sendmail.chmod(0o755)
    digests = quick_digest(
        tmp_path / "d" / "night.md", [(f"第{i}条", u) for i, u in enumerate(UNRESOLVABLE[:6])]
    )
    env = dict(
        CRAWL_ENV,
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        SOURCES_MAILTO="ops@example.org",
    )
    notify = f"{sys.executable} {REPO / 'deploy' / 'notify.py'}"
    done = subprocess.run(
        crawl_args(tmp_path / "archive", digests, NOTIFY_COMMAND=notify),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 8, done.stderr[-3000:]
    assert "notified: NOTIFY_COMMAND told the operator" in done.stderr
    mail = mailbox.read_text(encoding="utf-8")
    assert mail.startswith("ARGS: -t -oi")
    assert "To: ops@example.org" in mail
    assert re.search(r"Subject: sources crawl failed on \S+: exit 8 \(network_unreachable\)", mail)
    assert "network looks unreachable: 6 of 6 fetches" in mail
    assert "runs/" in mail  # where the full report is
    assert verify(tmp_path / "archive").returncode == 0


EXAMPLES = REPO / "examples" / "digests"
#: Sites whose pages the example digests may cite: pages that stay where they are.
STABLE_HOSTS = {
    "arxiv.org",
    "github.com",
    "en.wikipedia.org",
    "mp.weixin.qq.com",
    "blog.google",
    "www.anthropic.com",
    "trafilatura.readthedocs.io",
}


def _example_urls() -> list[str]:
    from crawler.digests import parse_digest

    return [
        link.canonical_url
        for path in sorted(EXAMPLES.glob("*.md"))
        for entry in parse_digest(path.read_bytes(), str(path)).entries
        for link in entry.links
        if link.canonical_url
    ]


def test_the_examples_cite_real_stable_pages_and_real_wechat_articles() -> None:
    from urllib.parse import urlsplit

    urls = _example_urls()
    assert {urlsplit(u).hostname for u in urls} <= STABLE_HOSTS
    wechat = {u for u in urls if urlsplit(u).hostname == "mp.weixin.qq.com"}
    assert wechat, "the examples cite no WeChat article"
    real = SHARED / "digests"
    if not real.is_dir():
        pytest.skip(f"{real} is not here (the shared real digests are outside the repo)")
    cited = "".join(p.read_text(encoding="utf-8") for p in real.glob("*.md"))
    assert all(u in cited for u in wechat), "a WeChat link not taken from a real digest"


def test_the_readmes_first_command_crawls_the_examples_into_a_sound_archive(
    robots_ok: Any, tmp_path: Path
) -> None:
    """The examples as shipped, their hosts pointed at a loopback copy (no network)."""
    server = robots_ok
    server.expect_request(re.compile(r"^/(?!robots\.txt).*")).respond_with_data(
        article_html("示例页面", sentences("示例")), content_type="text/html; charset=utf-8"
    )
    base = server.url_for("").rstrip("/")
    copies = tmp_path / "digests"
    copies.mkdir()
    for path in EXAMPLES.glob("*.md"):
        text = re.sub(
            r"https?://([^/\s)\]>\"']+)",
            lambda m: f"{base}/{m.group(1)}",
            path.read_text(encoding="utf-8"),
        )
        (copies / path.name).write_text(text, encoding="utf-8")
    archive = tmp_path / "archive"
    result = run_crawl(archive, copies, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = citations(archive)
    assert len(rows) == 25 and {r["status"] for r in rows} == {"archived"}
    assert len({r["canonical_url"] for r in rows}) == len(set(_example_urls())) == 20
    assert verify(archive).returncode == 0
