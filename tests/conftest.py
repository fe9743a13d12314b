"""Shared test helpers: run real `scrapy crawl` subprocesses against loopback servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

#: Settings every end-to-end crawl uses: loopback allowed, no politeness delays.
FAST = {
    "ALLOWED_PRIVATE_NETWORKS": "127.0.0.1/8",
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "PROGRESS_INTERVAL": "0",
    "EXTRACT_WORKERS": "0",
    "DOWNLOAD_TIMEOUT": "10",
    "LOG_LEVEL": "INFO",
}


#: Environment of every subprocess a test starts in the repo.
CRAWL_ENV = dict(os.environ, PYTHONPATH=str(REPO))


def crawl_args(archive: Path, digests: str | Path, **settings: Any) -> list[str]:
    """The `scrapy crawl sources` command line, with FAST settings overridden by `settings`."""
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
    return args


def run_crawl(
    archive: Path, digests: str | Path, *, timeout: float = 120, **settings: Any
) -> subprocess.CompletedProcess[str]:
    """`scrapy crawl sources` in a subprocess (the reactor cannot restart in one process)."""
    return subprocess.run(
        crawl_args(archive, digests, **settings),
        cwd=REPO,
        env=CRAWL_ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def verify(archive: Path) -> subprocess.CompletedProcess[str]:
    """`python -m crawler.archive verify`."""
    return subprocess.run(
        [sys.executable, "-m", "crawler.archive", "verify", str(archive)],
        cwd=REPO,
        env=CRAWL_ENV,
        capture_output=True,
        text=True,
        check=False,
    )


def citations(archive: Path, *extra: str) -> list[dict[str, Any]]:
    """Rows of `python -m crawler.archive citations`."""
    out = subprocess.run(
        [sys.executable, "-m", "crawler.archive", "citations", str(archive), *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env=CRAWL_ENV,
    )
    return [json.loads(line) for line in out.stdout.splitlines()]


@pytest.fixture
def robots_ok(httpserver: Any) -> Any:
    """The loopback server, answering robots.txt with an allow-all file."""
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
    return httpserver


def article_html(
    title: str, body: list[str], *, date: str = "2026-02-05", author: str = "测试作者"
) -> str:
    """A small but realistic news page: navigation, article, related list, footer."""
    paragraphs = "\n".join(f"<p>{p}</p>" for p in body)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title} - 测试新闻网</title>
<meta property="og:title" content="{title}">
<meta name="author" content="{author}">
<meta property="article:published_time" content="{date}T10:00:00+08:00">
</head><body>
<nav><a href="/">首页</a> <a href="/ai">人工智能</a> <a href="/about">关于我们</a></nav>
<article><h1>{title}</h1><div class="meta">{author} {date}</div>
{paragraphs}
</article>
<aside><h3>相关阅读</h3><ul><li><a href="/x">另一篇文章的标题在这里</a></li></ul></aside>
<footer>版权所有 © 2026 测试新闻网</footer>
</body></html>"""


def quick_digest(path: Path, links: Iterable[tuple[str, str]], heading: str = "日报") -> Path:
    """Write a digest of one "## 更多动态" quick list: a `- [title](url)，摘要` line per link."""
    items = "\n".join(f"- [{title}]({url})，摘要" for title, url in links)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {heading}\n\n## 更多动态\n\n{items}\n", encoding="utf-8")
    return path


def sentences(topic: str, n: int = 6) -> list[str]:
    """n distinct Chinese sentences about `topic`, long enough for text extraction."""
    return [
        f"{topic}的第{i}段说明了这项研究的背景、方法与结论，研究团队在多个公开基准上进行了"
        f"系统的实验，并与现有方法做了细致的对比分析，结果显示新方法在第{i}项指标上明显领先。"
        for i in range(1, n + 1)
    ]


def project_settings(**overrides: Any) -> dict[str, Any]:
    """The project's settings (crawler/settings.py) with `overrides`, for in-process crawlers."""
    from crawler import settings as project

    found = {name: getattr(project, name) for name in dir(project) if name.isupper()}
    return {**found, "EXTRACT_WORKERS": 0, "PROGRESS_INTERVAL": 0, **overrides}


def project_crawler(tmp_path: Path, spidercls: Any = None, **overrides: Any) -> Any:
    """A crawler built as `scrapy crawl` builds it (extensions included), never crawling.

    Its archive lives in `tmp_path / "archive"` and is open; close it with `close_archive`.
    """
    from scrapy.utils.test import get_crawler

    settings = project_settings(ARCHIVE_DIR=str(tmp_path / "archive"), **overrides)
    return get_crawler(spidercls, settings_dict=settings)


def archive_of(crawler: Any) -> Any:
    """The open archive of a crawler built by `project_crawler`."""
    from crawler.extensions import required
    from crawler.extensions.archive import ArchiveExtension

    return required(crawler, ArchiveExtension).archive


def close_archive(crawler: Any) -> None:
    """Close the archive of a crawler built by `project_crawler`."""
    from crawler.extensions.archive import ArchiveExtension

    extension = crawler.get_extension(ArchiveExtension)
    if extension is not None:
        extension.close()


def record_fetch(
    archive: Any,
    url: str,
    *,
    status: str,
    reason: str | None = None,
    http_status: int | None = None,
    text: str | None = None,
    title: str | None = None,
    body_sha256: str | None = None,
    next_attempt: float | None = None,
    original: Any = None,
) -> str | None:
    """Record in `archive` a settled fetch of canonical `url` ending so; the article id."""
    from crawler.items import Extracted, FetchOutcome, Status
    from crawler.urls import url_id

    extracted = None
    if text is not None:
        extracted = Extracted(status=Status(status), title=title, text=text)
    return archive.record_outcome(  # type: ignore[no-any-return]
        FetchOutcome(
            link_id=url_id(url),
            canonical_url=url,
            status=Status(status),
            reason=reason,
            http_status=http_status,
            extracted=extracted,
            body_sha256=body_sha256,
            next_attempt=next_attempt,
            original=original,
        )
    )
