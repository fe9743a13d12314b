"""End to end over saved site pages: WeChat states show as gone/blocked, images are stored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, citations, quick_digest, run_crawl

PAGES = REPO / "tests" / "fixtures" / "pages" / "mp.weixin.qq.com"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.slow
def test_wechat_states_and_images_through_a_crawl(robots_ok: Any, tmp_path: Path) -> None:
    server = robots_ok
    base = server.url_for("").rstrip("/")
    article = (PAGES / "article.html").read_text(encoding="utf-8")
    article = article.replace("https://mmbiz.qpic.cn/", f"{base}/img/")
    server.expect_request("/s/article").respond_with_data(article, content_type="text/html")
    for state in ("deleted", "verification", "expired"):
        server.expect_request(f"/s/{state}").respond_with_data(
            (PAGES / f"{state}.html").read_bytes(), content_type="text/html"
        )
    server.expect_request("/img/mmbiz_png/Xy7aQ1fixture001/640").respond_with_data(
        PNG, content_type="image/png"
    )
    server.expect_request("/img/mmbiz_jpg/Xy7aQ1fixture002/640").respond_with_data(
        b"\xff\xd8\xff" + b"\x00" * 64, content_type="image/jpeg"
    )
    server.expect_request("/img/mmbiz_png/Xy7aQ1qrcode/640").respond_with_data("no", status=404)

    digests = tmp_path / "digests"
    digests.mkdir()
    states = ("article", "deleted", "verification", "expired")
    quick_digest(digests / "d.md", ((s, f"{base}/s/{s}") for s in states))
    netloc = base.split("://", 1)[1]
    archive = tmp_path / "archive"
    result = run_crawl(
        archive,
        digests,
        EXTRACT_AS=json.dumps({netloc: "mp.weixin.qq.com"}),
        ARTICLE_IMAGES_DOMAINS="*",
        BLOCKED_SITE_DELAY="0.1",
    )
    assert result.returncode == 0, result.stderr[-3000:]

    rows = {r["url"].rsplit("/", 1)[-1]: r for r in citations(archive)}
    assert rows["article"]["status"] == "archived"
    assert rows["article"]["title"] == "星河实验室开源 StarRiver-2：70 亿参数，128K 上下文"
    assert rows["article"]["published"] == "2026-02-05T14:03:00+08:00"
    assert rows["article"]["author"] == "林夏"
    assert rows["deleted"]["status"] == "gone"
    assert "该内容已被发布者删除" in rows["deleted"]["reason"]
    assert rows["expired"]["status"] == "gone"
    assert rows["verification"]["status"] == "blocked"
    assert "backing off" in result.stderr
    # what was served is kept as evidence even when it is not an article
    assert rows["deleted"]["original"] is not None

    record = json.loads((archive / rows["article"]["article"]).read_text())
    attachments = record["attachments"]
    assert len(attachments) == 3
    stored = {u.rsplit("/", 2)[-2]: a for u, a in attachments.items()}
    assert stored["Xy7aQ1fixture001"]["status"] == "archived"
    assert stored["Xy7aQ1fixture001"]["content_type"] == "image/png"
    assert stored["Xy7aQ1fixture001"]["original"]["warc"].startswith("warc/")
    assert stored["Xy7aQ1qrcode"]["status"] == "gone"

    # the blocked link is retried by a later run only after its back-off
    again = run_crawl(archive, digests)
    assert again.returncode == 0
    assert sum(1 for req, _ in server.log if req.path == "/s/verification") == 1
