"""End to end: real `scrapy crawl sources` runs against a loopback server."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator
from werkzeug import Response

from tests.conftest import REPO, SHARED, article_html, citations, run_crawl, sentences


def _serve_site(server: Any) -> None:
    """Articles, a 404, two byte-identical pages, a redirect."""
    for slug, topic in (
        ("a1", "大模型推理"),
        ("a2", "具身智能"),
        ("a3", "芯片设计"),
        ("a4", "开源社区"),
    ):
        server.expect_request(f"/news/{slug}.html").respond_with_data(
            article_html(f"{topic}新进展", sentences(topic)),
            content_type="text/html; charset=utf-8",
        )
    same = article_html("同一篇文章", sentences("重复内容"))
    for slug in ("dup1", "dup2"):
        server.expect_request(f"/news/{slug}.html").respond_with_data(
            same, content_type="text/html; charset=utf-8"
        )
    server.expect_request("/news/gone.html").respond_with_data("not here", status=404)
    server.expect_request("/go/a3").respond_with_response(
        Response(status=302, headers={"Location": server.url_for("/news/a3.html")})
    )


def _digests(folder: Path, base: str) -> Path:
    """Two digests in two formats citing the site; counts are asserted below."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hangye-2026-02-05.md").write_text(
        f"""# 🤖 AI行业速递 - 2026年02月05日

## 第一条新闻：推理加速

> **分类：** 技术前沿解读
> **来源：** [机器之心]({base}/news/a1.html) 、 [量子位]({base}/news/a2.html?utm_source=digest)

**核心洞察：** 一段摘要。

---

## 第二条新闻：失效链接与重定向

> **分类：** 市场动态
> **来源：** [新智元]({base}/news/gone.html) 、 [36氪]({base}/go/a3)

---

## 其他相关资讯

- [重复页面一]({base}/news/dup1.html)
- [重复页面二]({base}/news/dup2.html#comments)
""",
        encoding="utf-8",
    )
    (folder / "ribao-2026-02-06.md").write_text(
        f"""---
title: 测试日报
date: 2026-02-06
---
# 测试日报

## 模型

### [具身智能新进展]({base}/news/a2.html)

正文提到了 [开源社区]({base}/news/a4.html) 的工作。

## 更多动态

- [第一条新闻被再次引用]({base}/news/a1.html)，摘要
- [端口写错的链接](http://127.0.0.1:99999/x)，摘要
""",
        encoding="utf-8",
    )
    return folder


def _page_requests(server: Any) -> list[str]:
    return [req.path for req, _ in server.log if req.path != "/robots.txt"]


def test_crawl_archives_every_cited_link_once(robots_ok: Any, tmp_path: Path) -> None:
    server = robots_ok
    _serve_site(server)
    digests = _digests(tmp_path / "digests", server.url_for("").rstrip("/"))
    archive = tmp_path / "archive"

    result = run_crawl(archive, digests)
    assert result.returncode == 0, result.stderr[-3000:]

    fetched = _page_requests(server)
    # every canonical URL once, however many entries cite it; the redirect hop is its own
    assert sorted(fetched) == sorted(
        [
            "/news/a1.html",
            "/news/a2.html",
            "/news/gone.html",
            "/go/a3",
            "/news/a3.html",
            "/news/dup1.html",
            "/news/dup2.html",
            "/news/a4.html",
        ]
    )

    rows = citations(archive)
    # hangye: 2 + 2 + 1 + 1 links; ribao: 1 + 1 (related) + 1 + 1 (invalid)
    assert len(rows) == 10
    assert {r["role"] for r in rows if r["url"].endswith("/news/a4.html")} == {"related"}
    statuses = sorted(r["status"] for r in rows)
    assert statuses == ["archived"] * 8 + ["gone", "invalid"]
    gone = next(r for r in rows if r["url"].endswith("/gone.html"))
    assert gone["http_status"] == 404 and gone["reason"] == "HTTP 404"
    invalid = next(r for r in rows if "99999" in r["url"])
    assert invalid["canonical_url"] is None and "port" in invalid["reason"].lower()

    a1 = [r for r in rows if r["url"].endswith("/news/a1.html")]
    assert len(a1) == 2 and {r["digest"] for r in a1} == {"hangye-2026-02-05", "ribao-2026-02-06"}
    assert a1[0]["title"] == "大模型推理新进展"
    assert a1[0]["published"].startswith("2026-02-05")
    assert a1[0]["text_chars"] > 200

    # utm variant and plain URL are one link
    a2 = {r["canonical_url"] for r in rows if "/news/a2.html" in r["url"]}
    assert len(a2) == 1 and "utm_source" not in a2.pop()

    # byte-identical pages from two URLs: one article, both links lead to it
    dups = [r for r in rows if "/dup" in r["url"]]
    assert len({r["link"] for r in dups}) == 2
    assert len({r["article"] for r in dups}) == 1

    # the redirect: final URL recorded, both hops in WARC
    redirected = next(r for r in rows if r["url"].endswith("/go/a3"))
    assert redirected["status"] == "archived" and redirected["title"] == "芯片设计新进展"

    responses, requests, resources = [], 0, 0
    for warc in (archive / "warc").glob("*.warc.gz"):
        with warc.open("rb") as fh:
            for record in ArchiveIterator(fh):
                kind = record.rec_type
                if kind == "response":
                    responses.append(record.rec_headers.get_header("WARC-Target-URI"))
                    assert record.rec_headers.get_header("WARC-Payload-Digest").startswith(
                        "sha256:"
                    )
                elif kind == "request":
                    requests += 1
                elif kind == "resource":
                    resources += 1
    assert len(responses) == len(fetched) == requests
    assert resources == 2  # each digest as read
    assert any(u.endswith("/go/a3") for u in responses)

    # the original pointer leads to the exact bytes served
    original = a1[0]["original"]
    with (archive / original["warc"]).open("rb") as fh:
        fh.seek(original["offset"])
        record = next(iter(ArchiveIterator(fh)))
        assert record.rec_headers.get_header("WARC-Record-ID") == original["record_id"]
        assert "大模型推理新进展" in record.content_stream().read().decode()


def _snapshot(archive: Path) -> dict[str, str]:
    return {
        str(p.relative_to(archive)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in archive.rglob("*")
        if p.is_file() and p.parts[len(archive.parts)] in ("digests", "links", "articles", "warc")
    }


def test_second_run_fetches_nothing_and_changes_nothing(robots_ok: Any, tmp_path: Path) -> None:
    server = robots_ok
    _serve_site(server)
    digests = _digests(tmp_path / "digests", server.url_for("").rstrip("/"))
    archive = tmp_path / "archive"
    first = run_crawl(archive, digests)
    assert first.returncode == 0, first.stderr[-5000:]
    before = _snapshot(archive)
    fetched = len(_page_requests(server))

    second = run_crawl(archive, digests)
    assert second.returncode == 0, second.stderr[-3000:]
    assert len(_page_requests(server)) == fetched
    assert _snapshot(archive) == before
    assert "2 unchanged" in second.stderr


def test_new_digest_citing_archived_url_adds_link_back_without_fetch(
    robots_ok: Any, tmp_path: Path
) -> None:
    server = robots_ok
    _serve_site(server)
    base = server.url_for("").rstrip("/")
    digests = _digests(tmp_path / "digests", base)
    archive = tmp_path / "archive"
    first = run_crawl(archive, digests)
    assert first.returncode == 0, first.stderr[-5000:]
    fetched = len(_page_requests(server))

    (digests / "later.md").write_text(
        f"# AI 每日情报 | 2026-02-07\n\n## 📊 今日情报\n\n### 1. [测试] 又一次引用\n"
        f"**来源**: 量子位 | **时间**: 2026-02-07 10:00\n\n**链接**: {base}/news/a1.html\n",
        encoding="utf-8",
    )
    first = run_crawl(archive, digests)
    assert first.returncode == 0, first.stderr[-5000:]
    assert len(_page_requests(server)) == fetched
    a1 = [r for r in citations(archive) if r["url"] == f"{base}/news/a1.html"]
    assert sorted(r["digest"] for r in a1) == ["hangye-2026-02-05", "later", "ribao-2026-02-06"]
    assert {r["status"] for r in a1} == {"archived"}
    assert len({r["article"] for r in a1}) == 1


def test_bad_digests_are_reported_and_the_rest_is_crawled(robots_ok: Any, tmp_path: Path) -> None:
    server = robots_ok
    _serve_site(server)
    digests = _digests(tmp_path / "digests", server.url_for("").rstrip("/"))
    (digests / "binary.md").write_bytes(bytes(range(256)) * 8)
    (digests / "empty.md").write_bytes(b"")
    archive = tmp_path / "archive"
    result = run_crawl(archive, digests)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "binary.md" in result.stderr and "empty.md" in result.stderr
    assert len(citations(archive)) == 10
    report = sorted((archive / "runs").glob("*.json"))[-1].read_text()
    assert "binary.md" in report


def test_missing_digest_path_fails_with_a_clear_error(tmp_path: Path) -> None:
    result = run_crawl(tmp_path / "archive", tmp_path / "nowhere", timeout=60)
    assert result.returncode == 3  # ExitCode.NO_DIGESTS
    assert f"digests path {tmp_path / 'nowhere'} does not exist" in result.stderr


def test_run_with_only_unreadable_digests_exits_nonzero(tmp_path: Path) -> None:
    folder = tmp_path / "digests"
    folder.mkdir()
    (folder / "junk.md").write_bytes(b"\x00\x01\x02" * 100)
    result = run_crawl(tmp_path / "archive", folder, timeout=60)
    assert result.returncode == 4  # ExitCode.DIGESTS_UNREADABLE
    assert "no digest could be read" in result.stderr


# Hand counts of ../shared/digests (see tests/test_digests.py): entries, source, related links.
REAL_COUNTS = {
    "hangye-sudi-2026-02-05": (20, 27, 0),
    "hangye-sudi-2026-01-22": (23, 27, 0),
    "meiri-qingbao-2026-02-03": (14, 14, 20),
    "meiri-qingbao-2026-02-04": (16, 16, 28),
    "ribao-2026-02-06": (84, 84, 0),
}


@pytest.mark.slow
def test_citations_of_the_real_sample_digests_have_the_hand_counted_links(
    robots_ok: Any, tmp_path: Path
) -> None:
    """The real digests, their links pointed at loopback: every cited link is accounted for."""
    real = SHARED / "digests"
    if not real.is_dir():
        pytest.skip(f"{real} is not here (the shared samples are outside the repo)")
    server = robots_ok
    server.expect_request(re.compile(r"^/(?!robots\.txt).*")).respond_with_data(
        article_html("样例页面", sentences("样例")), content_type="text/html; charset=utf-8"
    )
    base = server.url_for("").rstrip("/")
    folder = tmp_path / "digests"
    folder.mkdir()
    for path in real.glob("*.md"):
        text = re.sub(
            r"https?://([^/\s)\]>\"']+)",
            lambda m: f"{base}/{m.group(1)}",
            path.read_text(encoding="utf-8"),
        )
        (folder / path.name).write_text(text, encoding="utf-8")
    result = run_crawl(tmp_path / "archive", folder, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]

    rows = citations(tmp_path / "archive")
    for digest_id, (entries, source, related) in REAL_COUNTS.items():
        mine = [r for r in rows if r["digest"] == digest_id]
        assert len({r["entry"] for r in mine}) == entries, digest_id
        assert sum(r["role"] == "source" for r in mine) == source, digest_id
        assert sum(r["role"] == "related" for r in mine) == related, digest_id
    assert len(rows) == sum(s + r for _, s, r in REAL_COUNTS.values())
    assert all(r["status"] == "archived" for r in rows if r["canonical_url"])
    # each canonical URL was fetched once however many entries cite it
    fetched = _page_requests(server)
    assert len(fetched) == len(set(fetched))
    assert len(fetched) == len({r["canonical_url"] for r in rows if r["canonical_url"]})


def test_a_second_crawl_on_a_held_archive_is_refused_naming_the_holder(tmp_path: Path) -> None:
    from crawler.archive import Archive

    archive = Archive(tmp_path / "archive").open()
    try:
        result = run_crawl(tmp_path / "archive", REPO / "examples" / "digests", timeout=60)
    finally:
        archive.close()
    assert result.returncode == 5  # ExitCode.ARCHIVE_HELD
    assert f"held by another crawl (pid {os.getpid()}" in result.stderr


def test_a_changed_digest_is_read_again_and_the_report_adds_up(
    robots_ok: Any, tmp_path: Path
) -> None:
    server = robots_ok
    _serve_site(server)
    server.expect_request("/news/new.html").respond_with_data(
        article_html("新增文章", sentences("新增")), content_type="text/html; charset=utf-8"
    )
    base = server.url_for("").rstrip("/")
    digests = _digests(tmp_path / "digests", base)
    archive = tmp_path / "archive"
    assert run_crawl(archive, digests).returncode == 0

    ribao = digests / "ribao-2026-02-06.md"
    text = ribao.read_text(encoding="utf-8")
    text = text.replace(f"正文提到了 [开源社区]({base}/news/a4.html) 的工作。", "正文。")
    text = text.replace("## 更多动态\n", f"## 更多动态\n\n- [新增]({base}/news/new.html)，摘要\n")
    ribao.write_text(text, encoding="utf-8")
    second = run_crawl(archive, digests)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "1 digest(s) read, 1 unchanged" in second.stderr
    assert [p for p in _page_requests(server) if p == "/news/new.html"] == ["/news/new.html"]

    rows = citations(archive)
    assert len(rows) == 10
    assert not [r for r in rows if r["url"].endswith("/news/a4.html")]
    for path in (archive / "links").glob("*/*.json"):
        record = json.loads(path.read_text())
        if record["canonical_url"].endswith("/news/a4.html"):
            assert record["cited_by"] == [] and record["status"] == "archived"

    report = json.loads(sorted((archive / "runs").glob("*.json"))[-1].read_text())
    tally = report["archive"]
    assert tally["rows"] == len(rows)
    assert tally["invalid_rows"] == sum(r["canonical_url"] is None for r in rows)
    cited_links = {r["link"] for r in rows if r["link"]}
    by_status: dict[str, set[str]] = {}
    for r in rows:
        if r["link"]:
            by_status.setdefault(r["status"], set()).add(r["link"])
    assert tally["links"] == len(cited_links)
    assert tally["links_by_status"] == {k: len(v) for k, v in by_status.items()}
    assert report["sites"][urlsplit(base).hostname]["archived"] == 1
