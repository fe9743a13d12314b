"""The query surface and the web reader over a crawled archive: `search`, `citations` filters,
`articles`, `check`, `serve` (Flask's test client, and a real server while a crawl writes)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from crawler.archive import layout
from crawler.archive.web import create_app
from crawler.items import Check, Status
from crawler.urls import canonicalize, url_id
from tests.conftest import CRAWL_ENV, REPO, article_html, citations, crawl_args, verify


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.archive", *args],
        cwd=REPO,
        env=CRAWL_ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


# -- search -----------------------------------------------------------------------------------


def test_search_ranks_articles_with_a_snippet_and_the_entries_citing_them(reader_site: Any) -> None:
    result = _cli("search", "推理芯片", str(reader_site.archive), "--json")
    assert result.returncode == 0, result.stderr
    hits = _lines(result.stdout)
    assert hits[0]["url"] == reader_site.news_url
    assert "[推理芯片]" in hits[0]["snippet"]
    assert {(e["digest"], e["entry"]) for e in hits[0]["entries"]} == {
        ("hangye-2026-03-02", 2),
        ("ribao-2026-03-03", 1),
    }
    text = _cli("search", "StarRiver", str(reader_site.archive)).stdout
    assert "1. 星河实验室开源 StarRiver-2" in text and "cited by hangye-2026-03-02 #1" in text


def test_search_filters_and_a_gone_entry_found_by_its_summary(reader_site: Any) -> None:
    root = str(reader_site.archive)
    gone = _lines(_cli("search", "Orion-3", root, "--status", "gone", "--json").stdout)
    assert [(h["kind"], h["statuses"]) for h in gone] == [("entry", [Status.GONE])]
    assert _lines(_cli("search", "Orion-3", root, "--status", "archived", "--json").stdout) == []
    wechat = _lines(_cli("search", "模型", root, "--site", "localhost", "--json").stdout)
    assert [h["url"] for h in wechat] == [reader_site.wechat_url]
    later = _lines(_cli("search", "芯片", root, "--since", "2026-03-03", "--json").stdout)
    assert [h["url"] for h in later] == [reader_site.news_url]  # re-cited on 03-03


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("x" * 10_000, "10000 characters long; at most 200"),
        ("   ", "the query is empty"),
    ],
)
def test_search_refuses_a_bad_query_in_one_line(reader_site: Any, query: str, message: str) -> None:
    result = _cli("search", query, str(reader_site.archive))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {message}" or message in result.stderr
    assert "Traceback" not in result.stderr


def test_search_takes_fts_syntax_as_text(reader_site: Any) -> None:
    for query in ('NEAR("芯片" "订单")', "芯片 OR", '"', "*:*", "Polaris-X1 AND (芯片"):
        result = _cli("search", query, str(reader_site.archive), "--json")
        assert result.returncode == 0 and "Traceback" not in result.stderr, (query, result.stderr)


# -- citations filters and exports ----------------------------------------------------------


def test_citations_filters(reader_site: Any) -> None:
    root = reader_site.archive
    every = citations(root)
    assert len(every) == 6
    by_digest = citations(root, "--digest", "ribao-2026-03-03")
    assert [(r["digest"], r["entry"]) for r in by_digest] == [("ribao-2026-03-03", 1)]
    spelled = reader_site.news_url.replace("http://", "HTTP://") + "?utm_source=feed#top"
    by_url = citations(root, "--url", spelled)
    assert {r["digest"] for r in by_url} == {"hangye-2026-03-02", "ribao-2026-03-03"}
    assert {r["canonical_url"] for r in by_url} == {canonicalize(reader_site.news_url)}
    bad = citations(root, "--status", "gone,failed")
    assert sorted(r["status"] for r in bad) == [Status.FAILED, Status.GONE]
    assert [r["url"] for r in citations(root, "--site", "localhost")] == [reader_site.wechat_url]
    assert {r["digest"] for r in citations(root, "--since", "2026-03-03")} == {"ribao-2026-03-03"}
    assert {r["digest"] for r in citations(root, "--until", "2026-03-02")} == {"hangye-2026-03-02"}
    run = sorted(p.stem for p in (root / layout.RUNS).glob("*.json"))[-1]
    assert citations(root, "--new-since", run) == []  # nothing came after the only run


def test_citations_filters_refuse_bad_values_clearly(reader_site: Any) -> None:
    root = str(reader_site.archive)
    for args, message in (
        (("--status", "deleted"), "unknown status 'deleted'"),
        (("--since", "March"), "--since takes a date as YYYY-MM-DD"),
        (("--url", "ftp://x/y"), "unsupported scheme"),
        (("--digest", "../../etc/passwd"), "unsafe digest id"),
        (("--digest", "nope"), "holds no digest 'nope'"),
        (("--new-since", "20990101T000000Z-1"), "has no finished run"),
        (("--new-since", "../x"), "not a run id"),
    ):
        result = _cli("citations", root, *args)
        assert result.returncode != 0 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_articles_export_jsonl_and_markdown(reader_site: Any, tmp_path: Path) -> None:
    root = str(reader_site.archive)
    records = _lines(_cli("articles", root).stdout)
    assert len(records) == 3
    news = next(r for r in records if r["url"] == reader_site.news_url)
    assert news["title"] == "北辰科技发布推理芯片 Polaris-X1" and news["text"].startswith(
        "3 月 1 日"
    )
    assert [(c["digest"], c["entry"]) for c in news["cited_by"]] == [
        ("hangye-2026-03-02", 2),
        ("ribao-2026-03-03", 1),
    ]
    assert news["cited_by"][1]["summary"] == "Polaris-X1 售价约 1.2 万元，良率 92.5%。"
    only = _lines(_cli("articles", root, "--digest", "ribao-2026-03-03", "--no-text").stdout)
    assert [r["url"] for r in only] == [reader_site.news_url] and "text" not in only[0]
    out = tmp_path / "md"
    assert _cli("articles", root, "--format", "markdown", "--out", str(out)).returncode == 0
    wechat = next(p for p in out.glob("*.md") if "StarRiver" in p.read_text(encoding="utf-8"))
    text = wechat.read_text(encoding="utf-8")
    assert text.startswith("---\nid: ")
    assert "\n# 星河实验室开源 StarRiver-2：70 亿参数，128K 上下文\n" in text
    assert "\n## 长文本能力\n" in text  # the original's <h2> kept as a heading
    assert '"digest": "hangye-2026-03-02"' in text


def test_check_lists_the_entry_matching_nothing_first(reader_site: Any) -> None:
    result = _cli("check", str(reader_site.archive), "--json")
    assert result.returncode == 0, result.stderr
    rows = _lines(result.stdout)
    first = rows[0]
    assert (first["digest"], first["entry"], first["matches_nothing"]) == (
        "hangye-2026-03-02",
        3,
        True,
    )
    by_entry = {(r["digest"], r["entry"]): r for r in rows}
    starriver = by_entry[("hangye-2026-03-02", 1)]
    verdicts = {f["text"]: f["verdict"] for f in starriver["findings"]}
    assert verdicts["70 亿参数"] == Check.FOUND
    assert verdicts["9 万亿 token"] == Check.FOUND
    assert verdicts["18%"] == Check.FOUND
    assert verdicts["11 个百分点"] == Check.FOUND
    assert verdicts["3 亿"] == Check.NOT_FOUND  # the page says 一亿
    chip = by_entry[("hangye-2026-03-02", 2)]
    verdicts = {f["text"]: f["verdict"] for f in chip["findings"]}
    assert verdicts["12,000 元"] == Check.FOUND  # the page says 1.2 万元
    assert verdicts["2030 年"] == Check.NOT_FOUND  # the page says 2027
    where = next(f["where"][0] for f in chip["findings"] if f["text"] == "92.5%")
    assert where["url"] == reader_site.news_url and "92.5%" in where["excerpt"]
    gone = by_entry[("hangye-2026-03-02", 4)]
    assert {f["verdict"] for f in gone["findings"]} == {Check.NO_SOURCE_TEXT}
    text = _cli("check", str(reader_site.archive), "--digest", "hangye-2026-03-02").stdout
    assert text.splitlines()[0].startswith("hangye-2026-03-02 #3 ")
    assert "MATCHES NOTHING" in text.splitlines()[0]
    assert "not found: 3 亿" in text


# -- the web reader (test client) ---------------------------------------------------------


@pytest.fixture(scope="module")
def client(reader_site: Any) -> Any:
    return create_app(reader_site.archive).test_client()


def test_reader_pages(client: Any, reader_site: Any) -> None:
    home = client.get("/").get_data(as_text=True)
    assert home.index("2026-03-03") < home.index("2026-03-02")  # newest first
    assert "/digest/hangye-2026-03-02" in home
    page = client.get("/digest/hangye-2026-03-02")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "gone since" in html and "HTTP 404" in html and "HTTP 500" in html
    assert '<mark class="found"' in html and '<mark class="notfound"' in html
    assert "Entries whose summary matches nothing" in html
    assert "script" not in page.headers["Content-Security-Policy"]
    assert "<script" not in html
    link = url_id(canonicalize(reader_site.news_url))
    article_id = json.loads((layout.link_path(reader_site.archive, link)).read_text())["article"]
    art = client.get(f"/article/{article_id}").get_data(as_text=True)
    assert "Cited by 2 entries" in art and "ribao-2026-03-03 #1" in art
    found = client.get("/search?q=Polaris").get_data(as_text=True)
    assert f"/article/{article_id}" in found and "<mark>Polaris</mark>" in found
    runs = client.get("/runs").get_data(as_text=True)
    assert "127.0.0.1" in runs and "archived" in runs


def test_the_stored_original_is_shown_with_its_images_and_no_scripts(
    client: Any, reader_site: Any
) -> None:
    link = json.loads(
        layout.link_path(
            reader_site.archive, url_id(canonicalize(reader_site.wechat_url))
        ).read_text()
    )
    page = client.get(f"/original/{link['article']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"].startswith("sandbox")
    assert "<script" not in html and "visibility: hidden" not in html
    assert "星河实验室正式开源" in html
    images = [part.split('"')[0] for part in html.split('src="')[1:]]
    local = [src for src in images if src.startswith(f"/original/{link['article']}/res?url=")]
    assert len(local) >= 2
    image = client.get(local[0].replace("&amp;", "&"))
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert image.data.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "path",
    [
        "/digest/..%2F..%2F..%2Fetc%2Fpasswd",
        "/digest/../../etc/passwd",
        "/digest/%2e%2e",
        "/static/../../../etc/passwd",
        "/static/..%2f..%2f..%2fetc/passwd",
        "/article/../../archive.json",
        "/article/zzzz",
        "/original/0123456789abcdef0123456789abcdef/res?url=file:///etc/passwd",
        "/link/0123456789abcdef0123456789abcdef/original",
        "/warc/../archive.json",
    ],
)
def test_path_traversal_is_answered_with_a_page_never_a_file(client: Any, path: str) -> None:
    response = client.get(path)
    body = response.get_data()
    assert response.status_code in (400, 404), (path, response.status_code)
    assert b"root:" not in body and b"sources-archive" not in body and b"Traceback" not in body


def test_nothing_is_writable_and_hostile_queries_get_a_clear_answer(client: Any) -> None:
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)("/").status_code == 405
        assert getattr(client, method)("/digest/hangye-2026-03-02").status_code == 405
    long = client.get("/search", query_string={"q": "x" * 10_000})
    assert long.status_code == 400
    assert "10000 characters long" in long.get_data(as_text=True)
    for query in ('NEAR("a"', '"', "*", "\x00芯片", "芯片 OR AND"):
        answer = client.get("/search", query_string={"q": query})
        assert answer.status_code in (200, 400) and b"Traceback" not in answer.data
    assert client.get("/search", query_string={"q": "芯片", "since": "x"}).status_code == 400


def test_a_damaged_record_gives_an_error_page_not_a_traceback(
    reader_site: Any, tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "archive"
    shutil.copytree(reader_site.archive, copy)
    digest = copy / layout.DIGESTS / "hangye-2026-03-02.json"
    record = json.loads(digest.read_text())
    record["entries"][0]["links"][0]["link_id"] = "../../../etc"
    digest.write_text(json.dumps(record))
    page = create_app(copy, refresh=False).test_client().get("/digest/hangye-2026-03-02")
    assert page.status_code == 500
    text = page.get_data(as_text=True)
    assert "could not show this page" in text and "Traceback" not in text


# -- a real server, while a crawl writes into the archive ------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    url = urllib.parse.quote(url, safe=":/?=&%")
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


@pytest.mark.slow
def test_serve_on_loopback_while_a_crawl_writes(
    reader_site: Any, robots_ok: Any, tmp_path: Path
) -> None:
    import shutil

    archive = tmp_path / "archive"
    shutil.copytree(reader_site.archive, archive)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "crawler.archive", "serve", str(archive), "--port", str(port)],
        cwd=REPO,
        env=CRAWL_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line, line
        base = f"http://127.0.0.1:{port}"
        for n in range(12):
            robots_ok.expect_request(f"/later/{n}.html").respond_with_data(
                article_html(
                    f"夜间新闻{n}号：量子芯片", [f"第{n}篇：量子芯片的良率达到 {90 + n}%。"] * 3
                ),
                content_type="text/html; charset=utf-8",
            )
        digests = tmp_path / "later"
        digests.mkdir()
        items = "\n".join(
            f"- [夜间新闻{n}号]({robots_ok.url_for(f'/later/{n}.html')})，量子芯片"
            for n in range(12)
        )
        (digests / "ribao-2026-03-09.md").write_text(f"# 日报\n\n## 更多动态\n\n{items}\n")
        crawl = subprocess.Popen(
            crawl_args(archive, digests),
            cwd=REPO,
            env=CRAWL_ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        codes: list[int] = []
        while crawl.poll() is None:
            for path in ("/", "/digest/hangye-2026-03-02", "/search?q=量子芯片", "/runs"):
                status, body = _get(base + path)
                codes.append(status)
                assert "Traceback" not in body
            time.sleep(0.05)
        assert crawl.wait(timeout=120) == 0
        assert set(codes) == {200}, codes
        time.sleep(0.1)
        status, body = _get(base + "/digest/ribao-2026-03-09")
        assert status == 200 and "夜间新闻11号" in body
        # the search index takes the new night in (at most REFRESH_SECONDS later; a fresh
        # process refreshes at once)
        found = _cli("search", "量子芯片", str(archive), "--json")
        assert len(_lines(found.stdout)) == 12
        assert verify(archive).returncode == 0  # the reader wrote nothing into the contract
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_refuses_a_port_it_cannot_take_in_one_line(reader_site: Any) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = _cli("serve", str(reader_site.archive), "--port", str(port))
    assert result.returncode == 2 and "cannot listen on 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


def test_reindex_rebuilds_the_search_index_too(reader_site: Any, tmp_path: Path) -> None:
    import shutil

    archive = tmp_path / "archive"
    shutil.copytree(reader_site.archive, archive)
    (archive / "search.sqlite3").unlink(missing_ok=True)
    result = _cli("reindex", str(archive))
    assert result.returncode == 0, result.stderr
    counts = json.loads(result.stdout)
    assert counts["search"]["articles"] == 3 and counts["search"]["digests"] == 2
    assert (archive / "search.sqlite3").is_file()
    assert verify(archive).returncode == 0
