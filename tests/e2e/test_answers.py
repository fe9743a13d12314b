"""Every answer accounted for: one crawl of answers Scrapy would drop or misname.

Statuses outside 400-599, redirects that cannot be followed (to file:, gopher:, data:, none at
all), a malformed status line, hostile Retry-After values, a URL longer than Scrapy's default
URLLENGTH_LIMIT and a digest URL that answers 404. Each link ends with its true status and
reason; none is left pending, none says "Ignoring non-200 response".
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import citations, run_crawl
from tests.e2e.faultserver import FaultServer
from tests.e2e.test_faults import QUICK, assert_every_link_accounted, write_digest

LONG = "/article/" + "x" * 3000  # over Scrapy's default URLLENGTH_LIMIT (2083), under ours

#: path -> (status, a regex its reason matches in full, None for no reason)
CASES: dict[str, tuple[str, str | None]] = {
    "/raw-status/600%20X/a": ("failed", r"HTTP 600: not an HTTP status code \(100-599\)"),
    "/raw-status/999%20X/b": ("failed", r"HTTP 999: not an HTTP status code \(100-599\)"),
    "/raw-status/1000%20X/c": ("failed", r"HTTP 1000: not an HTTP status code \(100-599\)"),
    "/raw-status/abc/d": ("failed", r"malformed response: non-integer status code .*"),
    "/status/304/e": ("failed", r"HTTP 304: a redirect status that is not followed"),
    "/location/file/f": (
        "refused",
        r"HTTP 302: refused redirect to unsupported scheme 'file' \(file:///etc/passwd\)",
    ),
    "/location/gopher/g": (
        "refused",
        r"HTTP 302: refused redirect to unsupported scheme 'gopher'.*",
    ),
    "/location/data/h": ("refused", r"HTTP 302: refused redirect to unsupported scheme 'data'.*"),
    "/location/none/i": ("failed", r"HTTP 302: a redirect without a Location"),
    "/retry-value/%ff%fe%00/j": ("failed", r"HTTP 503 \(3 tries\)"),
    "/retry-value/1e400/k": ("failed", r"HTTP 503 \(3 tries\)"),
    "/retry-value/99999999999999999999999/l": (
        "blocked",
        r"HTTP 503: Retry-After 31536000 s is over RETRY_AFTER_MAX \(120 s\)",
    ),
    LONG: ("archived", None),
}


def test_every_answer_ends_with_its_true_reason(tmp_path: Path) -> None:
    with FaultServer() as server:
        digests = write_digest(tmp_path / "digests", [server.url(p) for p in CASES])
        gone = server.url("/status/404/digest.md")
        result = run_crawl(tmp_path / "archive", f"{digests},{gone}", timeout=120, **QUICK)
        rows = {r["url"].removeprefix(server.url("")): r for r in citations(tmp_path / "archive")}
    assert "Ignoring non-200 response" not in result.stderr
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert set(rows) == set(CASES)
    assert_every_link_accounted(list(rows.values()))
    for path, (status, reason) in CASES.items():
        row = rows[path]
        assert row["status"] == status, (path, row)
        if reason is None:
            assert row["reason"] is None, (path, row)
        else:
            assert re.fullmatch(reason, row["reason"]), (path, row["reason"])
    # the digest URL that answers 404 is reported as what it is
    report = json.loads(sorted((tmp_path / "archive" / "runs").glob("*.json"))[-1].read_text())
    assert report["digests"]["errors"] == [f"{gone}: HTTP 404"]
    assert report["digests"]["failed"] == 1
