"""Re-checks end to end, against a loopback site that changes between runs: a page edited, a
page deleted (404, then back), a WeChat-style deleted page, a page that fails twice and comes
back, a server that answers 304 to its validators; and a re-check run killed with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import (
    CRAWL_ENV,
    REPO,
    article_html,
    citations,
    crawl_args,
    quick_digest,
    run_crawl,
    sentences,
    verify,
)

WECHAT = REPO / "tests" / "fixtures" / "pages" / "mp.weixin.qq.com"
ETAG = '"v1-etag"'
#: Every archived link is due again at once, and a second 404 confirms the first.
NOW = {"RECHECK_SCHEDULE": "0s", "RECHECK_CONFIRM_AFTER": "0", "RETRY_TIMES": "0"}


class Site:
    """Pages whose answers the test changes between runs (`state[name]`)."""

    def __init__(self) -> None:
        self.state: dict[str, str] = {}
        self.conditional: list[str] = []  # names asked with If-None-Match

    def page(self, name: str, version: int = 1) -> str:
        words = "第二版" if version > 1 else "原文"
        return article_html(f"{name}页面{words}", sentences(f"{name}{words}", 4))

    def handler(self, request: Request) -> Response:
        name = request.path.rsplit("/", 1)[-1]
        mode = self.state.get(name, "ok")
        if request.headers.get("If-None-Match"):
            self.conditional.append(name)
        html = "text/html; charset=utf-8"
        if mode == "ok":
            return Response(self.page(name), content_type=html)
        if mode == "edited":
            return Response(self.page(name, 2), content_type=html)
        if mode == "404":
            return Response("<html><body>Not Found</body></html>", status=404)
        if mode == "500":
            return Response("<html><body>Internal error</body></html>", status=500)
        if mode == "etag":
            if request.headers.get("If-None-Match") == ETAG:
                return Response(status=304, headers={"ETag": ETAG})
            return Response(self.page(name), content_type=html, headers={"ETag": ETAG})
        raise AssertionError(mode)


@pytest.fixture
def wechat_server() -> Iterator[HTTPServer]:
    """A second site, on 127.0.0.2, read by the WeChat extractor (EXTRACT_AS)."""
    server = HTTPServer(host="127.0.0.2", port=0)
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
    server.start()
    yield server
    server.clear()
    server.stop()


def _link(archive: Path, row: dict[str, Any]) -> dict[str, Any]:
    return json.loads((archive / row["link"]).read_text(encoding="utf-8"))


def _rows(archive: Path) -> dict[str, dict[str, Any]]:
    return {r["url"].rsplit("/", 1)[-1]: r for r in citations(archive)}


def _report(archive: Path) -> dict[str, Any]:
    newest = sorted((archive / "runs").glob("*.json"))[-1]
    return json.loads(newest.read_text(encoding="utf-8"))


def _kept(before: dict[str, Any], after: dict[str, Any]) -> None:
    """Nothing a link record held is replaced: its capture, versions, observations."""
    for key in ("article", "original", "fetch", "first_seen", "cited_by"):
        assert after[key] == before[key], key
    for key in ("observations", "versions"):
        old = before.get(key) or []
        assert after[key][: len(old)] == old, key


@pytest.mark.slow
def test_a_site_that_changes_over_time_keeps_an_honest_history(
    robots_ok: Any, wechat_server: HTTPServer, tmp_path: Path
) -> None:
    site = Site()
    for name in ("edited", "deleted", "flaky", "etag"):
        robots_ok.expect_request(f"/p/{name}").respond_with_handler(site.handler)
    site.state["etag"] = "etag"
    wechat = {"page": (WECHAT / "article.html").read_bytes()}
    wechat_server.expect_request("/s/wx").respond_with_handler(
        lambda _r: Response(wechat["page"], content_type="text/html; charset=utf-8")
    )
    base = robots_ok.url_for("").rstrip("/")
    wx = wechat_server.url_for("/s/wx")
    digests = tmp_path / "digests"
    names = ("edited", "deleted", "flaky", "etag")
    quick_digest(digests / "d.md", [*((n, f"{base}/p/{n}") for n in names), ("wx", wx)])
    archive = tmp_path / "archive"
    settings = {**NOW, "EXTRACT_AS": json.dumps({wx.split("/")[2]: "mp.weixin.qq.com"})}
    settings["ARTICLE_IMAGES_DOMAINS"] = ""

    first = run_crawl(archive, digests, RECHECK_PER_RUN=0, **settings)
    assert first.returncode == 0, first.stderr[-3000:]
    rows = _rows(archive)
    assert {r["status"] for r in rows.values()} == {"archived"}
    assert all(r["alive"] is True and r["versions"] == 1 for r in rows.values())
    captured = {n: _link(archive, r) for n, r in rows.items()}
    first_articles = {n: (archive / r["article"]).read_bytes() for n, r in rows.items()}

    # the site changes: an edit, a deletion, a WeChat deleted page, a failure
    site.state.update(edited="edited", deleted="404", flaky="500")
    wechat["page"] = (WECHAT / "deleted.html").read_bytes()
    second = run_crawl(archive, digests, **settings)  # a nightly run: nothing new, re-checks
    assert second.returncode == 0, second.stderr[-3000:]
    rows = _rows(archive)
    after = {n: _link(archive, r) for n, r in rows.items()}
    for name in rows:
        _kept(captured[name], after[name])
        assert (archive / rows[name]["article"]).read_bytes() == first_articles[name]
    obs = {n: after[n]["observations"][-1] for n in rows}
    assert obs["edited"]["outcome"] == "changed" and rows["edited"]["versions"] == 2
    assert rows["edited"]["alive"] is True
    assert obs["deleted"]["outcome"] == "gone" and obs["deleted"]["confirmed"] is False
    assert rows["deleted"]["alive"] is None and rows["deleted"]["gone_since"] is None
    assert obs["wx"]["outcome"] == "gone" and obs["wx"]["explicit"] is True
    assert "deleted by publisher" in obs["wx"]["reason"]
    assert rows["wx"]["alive"] is False
    assert rows["wx"]["gone_since"] == obs["wx"]["checked_at"]
    assert rows["wx"]["last_present"] == captured["wx"]["fetch"]["fetched_at"]
    assert obs["flaky"]["outcome"] == "unreachable" and obs["flaky"]["http_status"] == 500
    assert rows["flaky"]["alive"] is True
    assert obs["etag"]["outcome"] == "unchanged" and obs["etag"]["http_status"] == 304
    assert obs["etag"]["body_sha256"] is None
    assert "etag" in site.conditional
    # the edited page: a second article, the first still the one the digest cited
    edited = after["edited"]
    assert rows["edited"]["article"].endswith(f"{captured['edited']['article']}.json")
    new_article = edited["versions"][1]["article"]
    assert new_article != captured["edited"]["article"]
    version = json.loads(
        (archive / "articles" / new_article[:2] / f"{new_article}.json").read_text()
    )
    assert "第二版" in version["title"] and version["version_of"] == [edited["id"]]
    # the deleted WeChat page is kept as served, as evidence
    assert obs["wx"]["original"]["warc"].startswith("warc/")
    report = _report(archive)
    assert report["rechecks"]["scheduled"] == 5
    assert report["rechecks"]["changed"] == 1 and report["rechecks"]["not_modified"] == 1
    checked = verify(archive)
    assert checked.returncode == 0, checked.stdout[-3000:]

    # a re-check run: the 404 again (confirmed), the failure again, then both come back
    third = run_crawl_recheck(archive, **settings)
    assert third.returncode == 0, third.stderr[-3000:]
    rows = _rows(archive)
    again = {n: _link(archive, r) for n, r in rows.items()}
    for name in rows:
        _kept(after[name], again[name])
    deleted = again["deleted"]
    assert deleted["observations"][-1]["confirmed"] is True
    assert rows["deleted"]["alive"] is False
    assert rows["deleted"]["gone_since"] == deleted["observations"][-2]["checked_at"]
    assert rows["deleted"]["last_present"] == captured["deleted"]["fetch"]["fetched_at"]
    assert rows["flaky"]["alive"] is True
    assert [o["outcome"] for o in again["flaky"]["observations"]] == ["unreachable"] * 2
    assert again["edited"]["observations"][-1]["outcome"] == "unchanged"
    assert again["edited"]["observations"][-1]["version"] == 2

    site.state.update(deleted="ok", flaky="ok")
    fourth = run_crawl_recheck(archive, **settings)
    assert fourth.returncode == 0, fourth.stderr[-3000:]
    rows = _rows(archive)
    last = {n: _link(archive, r) for n, r in rows.items()}
    for name in rows:
        _kept(again[name], last[name])
    assert rows["flaky"]["alive"] is True
    assert last["flaky"]["observations"][-1]["outcome"] == "unchanged"
    assert rows["deleted"]["alive"] is True and rows["deleted"]["gone_since"] is None
    assert rows["deleted"]["last_present"] == last["deleted"]["observations"][-1]["checked_at"]
    checked = verify(archive)
    assert checked.returncode == 0, checked.stdout[-3000:]

    table = subprocess.run(
        [sys.executable, "-m", "crawler.archive", "rot", "--json", str(archive)],
        cwd=REPO,
        env=CRAWL_ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    sites = {r["site"]: r for r in map(json.loads, table.stdout.splitlines())}
    assert sites["all"]["cited"] == 5 and sites["all"]["checked"] == 5
    host = base.split("://")[1].split(":")[0]
    assert sites["127.0.0.2"]["gone"] == 1 and sites["127.0.0.2"]["median_days_to_absence"] == 0
    assert sites[host]["changed"] == 1 and sites[host]["still_there"] == 4
    assert sites[host]["gone"] == 0 and sites[host]["unreachable"] == 0


def run_crawl_recheck(archive: Path, **settings: Any) -> subprocess.CompletedProcess[str]:
    """`scrapy crawl sources -a recheck=due`."""
    args = crawl_args(archive, "unused", **settings)
    at = args.index("-a")
    args[at : at + 2] = ["-a", "recheck=due"]
    return subprocess.run(
        args, cwd=REPO, env=CRAWL_ENV, capture_output=True, text=True, timeout=120, check=False
    )


PAGES = 120


def _slow_etag(request: Request) -> Response:
    time.sleep(0.05)
    name = request.path.rsplit("/", 1)[-1]
    etag = f'"{name}"'
    if request.headers.get("If-None-Match") == etag:
        return Response(status=304, headers={"ETag": etag})
    return Response(
        article_html(f"第{name}篇", sentences(f"主题{name}", 3)),
        content_type="text/html; charset=utf-8",
        headers={"ETag": etag},
    )


@pytest.mark.slow
def test_a_recheck_run_killed_with_sigkill_loses_nothing(robots_ok: Any, tmp_path: Path) -> None:
    server = robots_ok
    for n in range(PAGES):
        server.expect_request(f"/k/{n}").respond_with_handler(_slow_etag)
    base = server.url_for("").rstrip("/")
    digests = tmp_path / "digests"
    quick_digest(digests / "d.md", ((f"第{n}篇", f"{base}/k/{n}") for n in range(PAGES)))
    archive = tmp_path / "archive"
    settings = {**NOW, "CONCURRENT_REQUESTS_PER_DOMAIN": "4"}
    first = run_crawl(archive, digests, RECHECK_PER_RUN=0, **settings)
    assert first.returncode == 0, first.stderr[-3000:]

    settings["RECHECK_SCHEDULE"] = "1d"  # a link checked once is not due again
    args = crawl_args(archive, "unused", **settings)
    at = args.index("-a")
    args[at : at + 2] = ["-a", "recheck=due"]
    proc = subprocess.Popen(
        args,
        cwd=REPO,
        env=CRAWL_ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline and _observed(archive) < PAGES // 4:
        time.sleep(0.05)
    assert proc.poll() is None, "the re-check run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    before = {p.name: json.loads(p.read_text()) for p in (archive / "links").glob("*/*.json")}
    killed = sum(bool(r.get("observations")) for r in before.values())
    assert 0 < killed < PAGES

    final = run_crawl_recheck(archive, **settings)
    assert final.returncode == 0, final.stderr[-3000:]
    assert "did not stop cleanly" in final.stderr
    after = {p.name: json.loads(p.read_text()) for p in (archive / "links").glob("*/*.json")}
    assert set(after) == set(before)
    for name, record in after.items():
        old = before[name].get("observations") or []
        assert record["observations"][: len(old)] == old  # nothing recorded was lost
        assert len(record["observations"]) == max(1, len(old))  # each checked once in all
        assert record["observations"][-1]["outcome"] == "unchanged"
        assert record["alive"] is True
    checked = verify(archive)
    assert checked.returncode == 0, checked.stdout[-3000:]


def _observed(archive: Path) -> int:
    """Links with an observation on disk so far."""
    found = 0
    for path in (archive / "links").glob("*/*.json"):
        try:
            found += '"observations"' in path.read_text()
        except OSError:
            continue
    return found
