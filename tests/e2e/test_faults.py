"""Fault injection: real crawls against a loopback server that misbehaves on purpose.

For every case the crawl finishes in bounded time, every link ends archived or recorded with
its reason (and attempts), memory stays bounded, and nothing already archived is lost. The
server is `tests.e2e.faultserver.FaultServer`; README.md ("Faults") lists the cases and what the
crawler does in each. The pieces these crawls go through are tested in process in
tests/test_throttle.py, tests/test_outcomes.py and tests/test_middleware_*.py.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import FAST, REPO, citations, run_crawl
from tests.e2e.faultserver import ENCODED, FaultServer, gzip_bomb

MAXSIZE = 8 * 1024 * 1024
#: Short timeouts and backoffs so that every retry happens within seconds.
QUICK = {
    "DOWNLOAD_TIMEOUT": "2",
    "RETRY_TIMES": "2",
    "RETRY_BACKOFF_BASE": "0.2",
    "DOWNLOAD_MAXSIZE": str(MAXSIZE),
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "BLOCKED_SITE_DELAY": "0.1",
}
#: Peak RSS allowed to a crawl, in MiB (an idle crawl process is about 120 MiB).
RSS_LIMIT_MB = 300

_PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[2:], timeout=float(sys.argv[1]))\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(f'peak-rss-kib {peak}', file=sys.stderr)\n"
    "sys.exit(r.returncode)\n"
)


@dataclass
class Crawl:
    """One finished crawl: its process, duration, peak memory, and its citations by slug."""

    server: FaultServer
    archive: Path
    result: subprocess.CompletedProcess[str]
    seconds: float
    peak_rss_mb: float
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)

    def hits(self, slug: str) -> list[float]:
        """When each request for a page with this slug came (robots.txt left out)."""
        return [h.at for h in self.server.hits if h.path.split("?")[0].endswith(f"/{slug}")]


def measured_crawl(
    archive: Path, digests: Path, *, timeout: float, **settings: Any
) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """`run_crawl`, also giving seconds taken and the crawl process's peak RSS in MiB."""
    args = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "sources",
        "-a",
        f"digests={digests}",
        "-s",
        f"ARCHIVE_DIR={archive}",
    ]
    for name, value in {**FAST, **settings}.items():
        args += ["-s", f"{name}={value}"]
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, str(timeout), *args],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        capture_output=True,
        text=True,
        timeout=timeout + 30,
        check=False,
    )
    seconds = time.monotonic() - started
    peak = re.findall(r"peak-rss-kib (\d+)", result.stderr)
    return result, seconds, int(peak[-1]) / 1024 if peak else float("inf")


def write_digest(folder: Path, urls: list[str], name: str = "faults.md") -> Path:
    """A generic markdown digest citing each URL once."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = "\n".join(f"- [第{i}条]({url})" for i, url in enumerate(urls, 1))
    (folder / name).write_text(f"# 故障测试\n\n## 链接\n\n{lines}\n", encoding="utf-8")
    return folder


def slug_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stats(stderr: str) -> dict[str, Any]:
    """The `sources/...` counters of Scrapy's stats dump at the end of a crawl log."""
    return {k: int(v) for k, v in re.findall(r"'(sources/[^']+)': (\d+)", stderr)}


def warc_responses(archive: Path) -> list[tuple[str, bytes]]:
    """(target URI, HTTP payload as served) of every response record in the archive."""
    out = []
    for path in sorted((archive / "warc").glob("*.warc.gz")):
        with path.open("rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response":
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    out.append((uri, record.raw_stream.read()))  # as served, not inflated
    return out


def assert_finished(result: subprocess.CompletedProcess[str], archive: Path) -> None:
    """The crawl ran to its end; non-zero only for too many failed fetches (MAX_ERROR_RATE):
    exit 7, or 8 when most of them could not connect (ExitCode)."""
    # no spider, pipeline or reactor error (robots.txt download errors are Scrapy's to log)
    crashes = re.findall(r".*(?:\[scrapy\.core\.scraper\] ERROR|Unhandled error).*", result.stderr)
    assert not crashes, crashes
    report = json.loads(sorted((archive / "runs").glob("*.json"))[-1].read_text())
    assert report["finish_reason"] == "finished", report
    assert all("fetches failed" in why for why in report["failed"]), report["failed"]
    expected = report["exit_code"] if report["failed"] else 0
    assert expected in (0, 7, 8) and result.returncode == expected, result.stderr[-3000:]


def assert_every_link_accounted(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        assert row["status"] not in (None, "pending"), row
        if row["status"] != "archived":
            assert row["reason"], row
        if row["canonical_url"]:
            assert row["attempts"] >= 1, row


# --- one crawl through every network and content fault ----------------------------------------


@dataclass(frozen=True)
class Case:
    """A link, how its fetch must end, and how many requests it may take."""

    path: str
    status: str
    reason: str | None  # a regex the reason must match in full; None: no reason
    requests: int | None  # page requests the server must see (None: not counted)


TRIES = int(QUICK["RETRY_TIMES"]) + 1
CASES = [
    Case("/slow/1/slow", "archived", None, 1),
    Case(
        "/never/never",
        "failed",
        r"timeout: Getting \S+ took longer than 2\.0 seconds\. \(3 tries\)",
        TRIES,
    ),
    Case("/drip/drip", "failed", r"timeout: .* \(3 tries\)", TRIES),
    Case(
        "/reset/reset",
        "failed",
        r"no response: the connection was reset or broken before any response \(3 tries\)",
        TRIES,
    ),
    Case(
        "/reset-mid/resetmid",
        "failed",
        r"truncated body: \d+ of \d+ bytes came before the connection closed \(3 tries\)",
        TRIES,
    ),
    Case(
        "/truncated/truncated",
        "failed",
        r"truncated body: 6000 of 60000 bytes came before the connection closed \(3 tries\)",
        TRIES,
    ),
    Case(
        "/gzipbomb/gzipbomb",
        "skipped",
        rf"too large: over DOWNLOAD_MAXSIZE \({MAXSIZE} bytes\) once decompressed",
        1,
    ),
    Case(
        "/huge/huge",
        "skipped",
        rf"too large: Content-Length 2147483648 bytes is over DOWNLOAD_MAXSIZE \({MAXSIZE} "
        r"bytes\)",
        1,
    ),
    # on a loaded machine an attempt may hit the 2 s timeout first and be retried
    Case(
        "/endless/endless",
        "skipped",
        rf"too large: over DOWNLOAD_MAXSIZE \({MAXSIZE} bytes\), stopped after \d+ bytes"
        r"( \(\d tries\))?",
        None,
    ),
    Case(
        "/redirect/self/selfloop",
        "failed",
        r"redirect loop: \S+/selfloop again after 2 "
        r"redirects",
        2,
    ),
    Case(
        "/redirect/pingpong/a/pingpong",
        "failed",
        r"redirect loop: \S+/a/pingpong again after 4 redirects",
        4,
    ),
    Case(
        "/redirect/chain/0/chain",
        "failed",
        r"too many redirects: more than REDIRECT_MAX_TIMES \(10\), the last to \S+/11/chain",
        11,
    ),
    Case("/redirect/to/3/hops", "archived", None, 4),
    Case(
        "/refresh/refreshloop",
        "failed",
        r"redirect loop: \S+/refreshloop again after 2 "
        r"redirects",
        2,
    ),
    Case("/status/404/gone404", "gone", r"HTTP 404", 1),
    Case("/status/410/gone410", "gone", r"HTTP 410", 1),
    Case("/status/500/error500", "failed", r"HTTP 500 \(3 tries\)", TRIES),
    Case("/ctype/none/notype", "archived", None, 1),
    Case("/ctype/octet/octet", "archived", None, 1),
    Case("/ctype/xhtml/xhtml", "archived", None, 1),
    Case("/ctype/pdf-as-html/pdfashtml", "archived", None, 1),
    Case("/pdf/pdf", "archived", None, 1),
    Case("/png/png", "archived", None, 1),
    Case("/gzip/gzipped", "archived", None, 1),
    *(Case(f"/enc/{variant}/{variant}", "archived", None, 1) for variant in ENCODED),
]


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    """One crawl of a digest citing every case, plus a port that refuses connections."""
    root = tmp_path_factory.mktemp("faults")
    gzip_bomb()  # built before the crawl, so that it is served at once
    with FaultServer() as server:
        urls = [server.url(case.path) for case in CASES]
        urls.append(f"http://127.0.0.1:{closed_port()}/refused")
        digests = write_digest(root / "digests", urls)
        result, seconds, peak = measured_crawl(root / "archive", digests, timeout=90, **QUICK)
        crawl = Crawl(server, root / "archive", result, seconds, peak)
        crawl.rows = {slug_of(r["url"]): r for r in citations(root / "archive", "--text")}
        yield crawl


@pytest.mark.slow
def test_fault_crawl_finishes_in_bounded_time_and_memory(faults: Crawl) -> None:
    assert_finished(faults.result, faults.archive)
    # the slowest case is a page that never answers: 3 tries of 2 s plus 0.2 + 0.4 s backoff
    assert faults.seconds < 60
    # a 2 GiB body, an endless one and a 256 MiB gzip bomb went by: none was held in memory
    assert faults.peak_rss_mb < RSS_LIMIT_MB, faults.peak_rss_mb
    assert len(faults.rows) == len(CASES) + 1
    assert_every_link_accounted(list(faults.rows.values()))


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[slug_of(c.path) for c in CASES])
def test_fault_case_ends_with_its_status_and_reason(faults: Crawl, case: Case) -> None:
    row = faults.rows[slug_of(case.path)]
    assert row["status"] == case.status, row
    if case.reason is None:
        assert row["reason"] is None, row
    else:
        assert re.fullmatch(case.reason, row["reason"]), row["reason"]
    assert row["attempts"] == 1
    if case.requests is not None:
        assert len(faults.hits(slug_of(case.path))) == case.requests


@pytest.mark.slow
def test_connection_refused_is_retried_then_failed(faults: Crawl) -> None:
    row = faults.rows["refused"]
    assert (row["status"], row["reason"]) == ("failed", "connection refused (3 tries)")


@pytest.mark.slow
def test_retries_back_off_exponentially(faults: Crawl) -> None:
    base = float(QUICK["RETRY_BACKOFF_BASE"])
    for slug in ("error500", "reset", "truncated"):
        times = faults.hits(slug)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert len(gaps) == TRIES - 1
        for n, gap in enumerate(gaps):
            assert gap >= base * 2**n * 0.9, (slug, gaps)


@pytest.mark.slow
def test_nothing_partial_is_stored_as_whole(faults: Crawl) -> None:
    """Truncated and oversized bodies leave no response record; everything stored verifies."""
    stored = {uri.rsplit("/", 1)[-1] for uri, _ in warc_responses(faults.archive)}
    for slug in ("truncated", "resetmid", "huge", "endless", "never", "drip", "reset"):
        assert slug not in stored
        row = faults.rows[slug]
        assert row["original"] is None and row["article"] is None
    # the gzip bomb is kept compressed as served, as evidence: 0.3 MB, not 256 MiB
    bomb = [body for uri, body in warc_responses(faults.archive) if uri.endswith("/gzipbomb")]
    assert len(bomb) == 1 and len(bomb[0]) < 1_000_000
    verify = subprocess.run(
        [sys.executable, "-m", "crawler.archive", "verify", str(faults.archive)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        check=False,
    )
    assert verify.returncode == 0, verify.stdout[-3000:] + verify.stderr[-3000:]


@pytest.mark.slow
def test_encodings_decode_right(faults: Crawl) -> None:
    for variant, (_, _, phrase) in ENCODED.items():
        row = faults.rows[variant]
        assert phrase in row["text"], (variant, row["text"][:200])
        assert "\ufffd" not in row["title"], variant
    assert faults.rows["gbk-sniff"]["title"] == "大模型推理加速"
    assert faults.rows["big5-meta"]["title"] == "大型語言模型的研究進展"


@pytest.mark.slow
def test_binaries_are_stored_as_originals_not_read_as_html(faults: Crawl) -> None:
    for slug, ctype in (
        ("pdf", "application/pdf"),
        ("png", "image/png"),
        ("pdfashtml", "application/pdf"),
    ):
        row = faults.rows[slug]
        article = json.loads((faults.archive / row["article"]).read_text())
        assert article["extractor"] == "binary" and article["text"] == "", slug
        assert article["extra"]["content_type"] == ctype, slug
        assert row["original"] is not None
    served = dict(warc_responses(faults.archive))
    assert any(
        body.startswith(b"%PDF-") for uri, body in served.items() if uri.endswith("/pdfashtml")
    )
    # HTML with a missing or wrong type is still read as HTML
    for slug in ("notype", "octet", "xhtml"):
        assert faults.rows[slug]["title"] == f"故障测试{slug}"
        assert faults.rows[slug]["text_chars"] > 200


# --- throttling: Retry-After and backing the site off -----------------------------------------


@pytest.mark.slow
def test_throttling_honours_retry_after_and_backs_off(tmp_path: Path) -> None:
    with FaultServer() as server:
        paths = [
            "/retry-after/1/1/seconds",
            "/retry-after/date/1/httpdate",
            "/busy-after/1/1/busy",
            "/unavailable/2/flaky",
            "/status/503/forever",
        ]
        digests = write_digest(tmp_path / "digests", [server.url(p) for p in paths])
        result = run_crawl(
            tmp_path / "archive", digests, timeout=90, **{**QUICK, "RETRY_TIMES": "3"}
        )
        assert_finished(result, tmp_path / "archive")
        crawl = Crawl(server, tmp_path / "archive", result, 0, 0)
        rows = {slug_of(r["url"]): r for r in citations(tmp_path / "archive")}
    assert_every_link_accounted(list(rows.values()))
    # 429 or 503 with Retry-After (seconds or HTTP-date), then the page: waited, then archived
    for slug in ("seconds", "httpdate", "busy"):
        assert rows[slug]["status"] == "archived", rows[slug]
        first, second = crawl.hits(slug)
        assert second - first >= 0.9, (slug, second - first)
    # 503 without Retry-After: exponential backoff until it recovers
    assert rows["flaky"]["status"] == "archived" and len(crawl.hits("flaky")) == 3
    # 503 forever: bounded retries, then failed with the count (retried by the next run)
    forever = rows["forever"]
    assert (forever["status"], forever["reason"], forever["http_status"]) == (
        "failed",
        "HTTP 503 (4 tries)",
        503,
    )
    assert len(crawl.hits("forever")) == 4
    counters = stats(result.stderr)
    assert counters["sources/retry/site_backoff"] >= 1  # the whole site was slowed down
    assert counters["sources/retry/gave_up/http_503"] == 1


def test_a_retry_after_too_long_is_not_waited_for(tmp_path: Path) -> None:
    with FaultServer() as server:
        paths = ["/retry-after/3600/9/toolong", "/busy-after/86400/9/busylong"]
        digests = write_digest(tmp_path / "digests", [server.url(p) for p in paths])
        started = time.time()
        result = run_crawl(tmp_path / "archive", digests, timeout=60, **QUICK)
        assert_finished(result, tmp_path / "archive")
        crawl = Crawl(server, tmp_path / "archive", result, 0, 0)
        rows = {slug_of(r["url"]): r for r in citations(tmp_path / "archive")}
    for slug, asked in (("toolong", 3600), ("busylong", 86400)):
        row = rows[slug]
        assert row["status"] == "blocked" and len(crawl.hits(slug)) == 1, row
        assert re.fullmatch(
            rf"HTTP (429|503): Retry-After {asked} s is over RETRY_AFTER_MAX "
            r"\(120 s\)",
            row["reason"],
        ), row["reason"]
        # blocked until after the wait the site asked for: the next run leaves it alone
        link = json.loads((tmp_path / "archive" / row["link"]).read_text())
        assert link["next_attempt"] >= started + asked
    assert stats(result.stderr)["sources/retry/gave_up/retry_after_too_long"] == 2
    again = run_crawl(tmp_path / "archive", digests, timeout=60, **QUICK)
    assert_finished(again, tmp_path / "archive")
    assert len(crawl.hits("toolong")) == len(crawl.hits("busylong")) == 1


# --- across runs --------------------------------------------------------------------------------


@pytest.mark.slow
def test_failed_links_are_retried_by_later_runs_up_to_the_limit(tmp_path: Path) -> None:
    settings = {**QUICK, "RETRY_TIMES": "1", "MAX_ATTEMPTS_PER_URL": "2"}
    with FaultServer() as server:
        digests = write_digest(
            tmp_path / "digests",
            [
                server.url("/switch/recovers"),
                server.url("/switch/broken"),
                server.url("/switch/dropped"),
            ],
        )
        server.modes.update(recovers="reset", broken="500", dropped="never")
        archive = tmp_path / "archive"
        crawl = Crawl(server, archive, run_crawl(archive, digests, **settings), 0, 0)
        first = {slug_of(r["url"]): r for r in citations(archive)}
        assert_finished(crawl.result, archive)
        assert {slug: (r["status"], r["attempts"]) for slug, r in first.items()} == {
            "recovers": ("failed", 1),
            "broken": ("failed", 1),
            "dropped": ("failed", 1),
        }
        assert first["recovers"]["reason"].startswith("no response:")
        assert first["broken"]["reason"] == "HTTP 500 (2 tries)"
        assert first["dropped"]["reason"].startswith("timeout:")

        # the next run (digest unchanged) retries every failed link; two have recovered
        server.modes.update(recovers="ok", dropped="ok")
        second_run = run_crawl(archive, digests, **settings)
        assert_finished(second_run, archive)
        second = {slug_of(r["url"]): r for r in citations(archive)}
        assert (second["recovers"]["status"], second["recovers"]["attempts"]) == ("archived", 2)
        assert (second["dropped"]["status"], second["dropped"]["attempts"]) == ("archived", 2)
        assert (second["broken"]["status"], second["broken"]["attempts"]) == ("failed", 2)
        hits = {slug: len(crawl.hits(slug)) for slug in ("recovers", "broken", "dropped")}

        # MAX_ATTEMPTS_PER_URL reached: a third run leaves the broken link alone
        server.modes.update(broken="ok")
        third_run = run_crawl(archive, digests, **settings)
        assert_finished(third_run, archive)
        assert {slug: len(crawl.hits(slug)) for slug in hits} == hits
        third = {slug_of(r["url"]): r for r in citations(archive)}
        assert (third["broken"]["status"], third["broken"]["attempts"]) == ("failed", 2)


def _files(archive: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(archive)): p.read_bytes()
        for p in archive.rglob("*")
        if p.is_file() and p.parts[len(archive.parts)] in ("articles", "warc")
    }


def test_nothing_archived_is_lost_when_the_server_turns_bad(tmp_path: Path) -> None:
    with FaultServer() as server:
        first = [server.url("/switch/kept1"), server.url("/switch/kept2")]
        digests = write_digest(tmp_path / "digests", first)
        archive = tmp_path / "archive"
        result = run_crawl(archive, digests, **QUICK)
        assert_finished(result, archive)
        before_rows = {r["url"]: r for r in citations(archive)}
        before_files = _files(archive)
        links_before = {u: (archive / r["link"]).read_text() for u, r in before_rows.items()}

        # the server now resets, hangs or errs on everything; a changed digest cites it all again
        server.modes.update(kept1="reset", kept2="never", new1="500", new2="reset")
        write_digest(digests, [*first, server.url("/switch/new1"), server.url("/switch/new2")])
        result = run_crawl(archive, digests, **QUICK)
        assert_finished(result, archive)
        assert len(server.paths("/switch/kept")) == 2  # archived links are not fetched again

    after = {r["url"]: r for r in citations(archive)}
    for url, row in before_rows.items():
        assert after[url]["status"] == "archived"
        for key in ("article", "original", "title", "text_chars"):
            assert after[url][key] == row[key], key
        kept = json.loads(links_before[url])
        now = json.loads((archive / row["link"]).read_text())
        assert {k: v for k, v in now.items() if k != "cited_by"} == {
            k: v for k, v in kept.items() if k != "cited_by"
        }
    after_files = _files(archive)
    for name, data in before_files.items():
        assert after_files[name] == data, name  # WARC files and articles untouched
    assert_every_link_accounted(list(after.values()))
    assert {after[server.url(f"/switch/{s}")]["status"] for s in ("new1", "new2")} == {"failed"}


# --- hostile links ------------------------------------------------------------------------------


def test_links_to_the_crawling_host_are_refused_without_a_request(tmp_path: Path) -> None:
    with FaultServer() as server:
        urls = [
            "file:///etc/passwd",
            "http://127.0.0.1:22/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data/",
            server.url("/article/loopback"),
            f"http://localhost:{server.port}/article/localhost",
        ]
        digests = write_digest(tmp_path / "digests", urls)
        # no ALLOWED_PRIVATE_NETWORKS: the crawler's own defaults
        result = run_crawl(tmp_path / "archive", digests, ALLOWED_PRIVATE_NETWORKS="")
        assert_finished(result, tmp_path / "archive")
        assert server.connections == 0 and server.hits == []
    rows = {r["url"]: r for r in citations(tmp_path / "archive")}
    assert_every_link_accounted(list(rows.values()))
    # file: is no link to crawl: the digest parser drops it (or records it invalid), and
    # nothing of the file is in the archive
    assert rows.get("file:///etc/passwd", {"status": "invalid"})["status"] == "invalid"
    assert len(rows) >= len(urls) - 1
    assert not [uri for uri, body in warc_responses(tmp_path / "archive") if b"root:" in body]
    for url, kind in (
        ("http://127.0.0.1:22/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        (server.url("/article/loopback"), "loopback"),
        (f"http://localhost:{server.port}/article/localhost", "localhost"),
    ):
        assert rows[url]["status"] == "refused", rows[url]
        assert kind in rows[url]["reason"], rows[url]["reason"]
        assert rows[url]["http_status"] is None


# --- scale --------------------------------------------------------------------------------------


@pytest.fixture
def fast_dir(tmp_path: Path) -> Iterator[Path]:
    """A scratch folder in memory (tmpfs) when there is one, else tmp_path.

    The archive fsyncs every file it writes; that costs a 10,000-link crawl a minute or more
    on a slow disk, which is not what the test measures.
    """
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="sources-faults-", dir=shm))
        yield folder
        shutil.rmtree(folder, ignore_errors=True)
    else:
        yield tmp_path


@pytest.mark.slow
def test_a_digest_with_ten_thousand_links(fast_dir: Path) -> None:
    n = 10_000
    with FaultServer() as server:
        digests = write_digest(fast_dir / "digests", [server.url(f"/text/{i}") for i in range(n)])
        result, seconds, peak = measured_crawl(
            fast_dir / "archive",
            digests,
            timeout=170,
            **{**QUICK, "CONCURRENT_REQUESTS": "32", "DOWNLOAD_MAXSIZE": "65536"},
        )
        assert_finished(result, fast_dir / "archive")
        assert len(server.paths("/text/")) == n  # each fetched once
    rows = citations(fast_dir / "archive")
    assert len(rows) == n
    assert {r["status"] for r in rows} == {"archived"}
    assert len({r["article"] for r in rows}) == n
    assert peak < RSS_LIMIT_MB, peak
    print(f"10,000 links: {seconds:.1f} s, peak RSS {peak:.0f} MiB")
