"""A crawled archive for the reader's tests: two digests whose entries' sources are archived (a
WeChat-style article with stored images, plain news pages), gone (404) and failed (500), with
summaries whose details the sources say, and one whose summary its source does not say at all.

The WeChat page is the project's own fixture (tests/fixtures/pages/mp.weixin.qq.com/
article.html) with its image URLs moved to the loopback server, served under `localhost` and
read as WeChat (`EXTRACT_AS`); the other pages are served under 127.0.0.1.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import REPO, article_html, run_crawl

WECHAT_FIXTURE = REPO / "tests" / "fixtures" / "pages" / "mp.weixin.qq.com" / "article.html"

#: The news page's text: details the first digest's summary repeats (and one it does not).
NEWS = [
    "3 月 1 日，北辰科技发布了推理芯片 Polaris-X1，单卡算力达到 512 TOPS，功耗为 75W。",
    "公司表示，该芯片已获得 2.3 万片订单，首批客户包括三家云厂商，售价约 1.2 万元。",
    "北辰科技创始人在发布会上说，团队用了 18 个月完成流片，良率达到 92.5%。",
    "分析人士认为，国产推理芯片的市场份额有望在 2027 年超过三成，但软件生态仍是短板。",
]
#: A page that is not what its digest entry summarises (a site's "please wait" page).
WAITING = [
    "页面正在加载，请稍候。如果长时间没有响应，请刷新页面或检查网络连接后重试。",
    "本站使用浏览器安全检查来保护访问者，检查完成后将自动跳转到您要访问的内容。",
    "如您多次看到本页面，请清除浏览器缓存后再访问，或者联系网站管理员获取帮助。",
]


def png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A small solid PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    raw = zlib.compress(row * height)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@dataclass
class ReaderSite:
    """Where the archive is and what its digests cite."""

    archive: Path
    digests: Path
    base: str  # http://127.0.0.1:port
    wechat_url: str
    news_url: str
    waiting_url: str
    gone_url: str
    failed_url: str


def serve(server: Any) -> tuple[str, str]:
    """Put the pages on the loopback server; (127.0.0.1 base, localhost base)."""
    base = f"http://127.0.0.1:{server.port}"
    local = f"http://localhost:{server.port}"
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n")
    page = WECHAT_FIXTURE.read_text(encoding="utf-8").replace(
        "https://mmbiz.qpic.cn/", f"{base}/img/"
    )
    server.expect_request("/s/starriver").respond_with_data(
        page, content_type="text/html; charset=utf-8"
    )
    for n, path in enumerate(
        (
            "/img/mmbiz_png/Xy7aQ1fixture001/640",
            "/img/mmbiz_jpg/Xy7aQ1fixture002/640",
            "/img/mmbiz_png/Xy7aQ1qrcode/640",
            "/img/mmbiz_jpg/Xy7aQ1cover/0",
        )
    ):
        server.expect_request(path).respond_with_data(
            png(40 + n, 30, (200, 30 * n, 30)), content_type="image/png"
        )
    server.expect_request("/news/polaris.html").respond_with_data(
        article_html("北辰科技发布推理芯片 Polaris-X1", NEWS, date="2026-03-01"),
        content_type="text/html; charset=utf-8",
    )
    server.expect_request("/news/waiting.html").respond_with_data(
        article_html("请稍候", WAITING, date="2026-03-01", author="网站"),
        content_type="text/html; charset=utf-8",
    )
    server.expect_request("/news/gone.html").respond_with_data("not here", status=404)
    server.expect_request("/news/broken.html").respond_with_data("oops", status=500)
    return base, local


def digests(folder: Path, base: str, local: str) -> None:
    """The two digests: `hangye-2026-03-02` (five entries) and `ribao-2026-03-03` (one)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hangye-2026-03-02.md").write_text(
        f"""# 🤖 AI行业速递 - 2026年03月02日

## 星河实验室开源 StarRiver-2：70 亿参数，128K 上下文

> **分类：** 技术前沿解读
> **来源：** [硅基观察]({local}/s/starriver)

**核心洞察：** StarRiver-2 用约 9 万亿 token 训练，代码占比 18%，检索准确率提高 11 个百分点。
**内容简介：**

- 部署：可在单张 24GB 显卡上以 4 比特量化运行，月活超过 3 亿的产品须另行授权。

---

## 北辰科技发布推理芯片 Polaris-X1：512 TOPS，已获 2.3 万片订单

> **分类：** 产业动态
> **来源：** [芯闻]({base}/news/polaris.html)

**核心洞察：** 单卡算力 512 TOPS、功耗 75W，良率 92.5%，售价约 12,000 元；团队历时 18 个月流片。
**内容简介：**

- 北辰科技称首批客户包括三家云厂商，预计 2030 年市场份额过半。

---

## 某平台推出 AI 助手 Nova：日活 3000 万，估值 50 亿美元

> **分类：** 产品与商业模式
> **来源：** [某站]({base}/news/waiting.html)

**核心洞察：** Nova 上线 30 天日活突破 3000 万，母公司估值达 50 亿美元，付费率 12.5%。

---

## 已删除的文章：某厂发布 Orion-3 模型

> **分类：** 技术前沿解读
> **来源：** [某号]({base}/news/gone.html)

**核心洞察：** Orion-3 参数规模 1.2 万亿，在 MMLU 上得分 91.3。

---

## 服务器出错的页面：某实验室发布 Lyra 数据集

> **分类：** 开源项目
> **来源：** [某实验室]({base}/news/broken.html)

**核心洞察：** Lyra 数据集包含 500 万条标注样本。
""",
        encoding="utf-8",
    )
    (folder / "ribao-2026-03-03.md").write_text(
        f"""---
title: AI 日报：推理芯片
date: 2026-03-03
---
# AI 日报：推理芯片

## 芯片

### [Polaris-X1 上市：北辰科技的推理芯片]({base}/news/polaris.html)

Polaris-X1 售价约 1.2 万元，良率 92.5%。
""",
        encoding="utf-8",
    )


def build(server: Any, root: Path) -> ReaderSite:
    """Crawl the digests into `root/archive` (a real `scrapy crawl` subprocess)."""
    base, local = serve(server)
    folder = root / "digests"
    digests(folder, base, local)
    archive = root / "archive"
    port = base.rsplit(":", 1)[1]
    result = run_crawl(
        archive,
        folder,
        ALLOWED_PRIVATE_NETWORKS="127.0.0.1/8,localhost",
        EXTRACT_AS=json.dumps({f"localhost:{port}": "mp.weixin.qq.com"}),
        ARTICLE_IMAGES_DOMAINS="localhost",
        RETRY_TIMES="0",
        MAX_ERROR_RATE="1.0",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return ReaderSite(
        archive=archive,
        digests=folder,
        base=base,
        wechat_url=f"{local}/s/starriver",
        news_url=f"{base}/news/polaris.html",
        waiting_url=f"{base}/news/waiting.html",
        gone_url=f"{base}/news/gone.html",
        failed_url=f"{base}/news/broken.html",
    )
