"""The loopback site's files: N article pages with near-duplicates, plus fresh pages."""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

from bench import pages

#: Bumped whenever generated pages change, so cached sites are rebuilt.
VERSION = 3
#: Share of article images whose bytes are a stock picture another page shows under another
#: URL (a repeat payload: a `revisit` record with requisites on).
STOCK_SHARE = 0.15
STOCK_IMAGES = 20
#: Shares of the N pages that near-duplicate an earlier page.
MIRROR_SHARE = 0.04  # byte-identical copy at a second URL (mobile mirror)
RETEMPLATE_SHARE = 0.03  # same article, other chrome (syndicated copy)
REPRINT_SHARE = 0.03  # same article plus a reprint notice (slightly different text)
WEIXIN_SHARE = 0.4  # pages served as WeChat articles


@dataclass
class Page:
    """One URL path of the site and what it serves."""

    path: str
    title: str
    kind: str  # news | weixin | mirror | retemplate | reprint
    bytes: int
    of: str | None = None  # the page a near-duplicate copies


@dataclass
class Site:
    """A generated site on disk: `www/` holds one file per URL path."""

    root: Path
    pages: list[Page]  # cited by the crawl's digests
    fresh: list[Page]  # cited only by the "new digest" of no-op runs

    @property
    def www(self) -> Path:
        return self.root / "www"

    def file(self, page: Page) -> Path:
        return self.www / page.path.lstrip("/")

    def wechat(self, page: Page) -> bool:
        """Whether the page is in WeChat chrome (a WeChat original or a copy of one)."""
        if page.kind == "weixin":
            return True
        base = self._by_path.get(page.of or "")
        return page.kind != "news" and base is not None and base.kind == "weixin"

    @cached_property
    def _by_path(self) -> dict[str, Page]:
        return {p.path: p for p in self.pages}


def _write(site_root: Path, path: str, data: bytes) -> None:
    target = site_root / "www" / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def image_bytes(rng: random.Random, size: int) -> bytes:
    """A JPEG-looking file of `size` bytes (served as image/jpeg; never decoded)."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + rng.randbytes(max(0, size - 13))


def _images(root: Path, rng: random.Random, article: pages.Article) -> None:
    """Write the article's images: most their own bytes, some a stock picture's."""
    for path in article.images:
        if rng.random() < STOCK_SHARE:
            data = image_bytes(random.Random(rng.randrange(STOCK_IMAGES)), 30_000)
        else:
            data = image_bytes(rng, rng.randint(4_000, 60_000))
        _write(root, path, data)


def _original(
    rng: random.Random, i: int, prefix: str, root: Path | None = None
) -> tuple[Page, pages.Article, bytes]:
    article = pages.new_article(rng, i // 40 + 1)
    if root is not None:
        _images(root, random.Random(rng.getrandbits(32)), article)
    kind = "weixin" if rng.random() < WEIXIN_SHARE else "news"
    path = f"/s/{rng.getrandbits(88):022x}" if kind == "weixin" else f"/{prefix}/{i}.html"
    data = pages.render(article, kind, rng, pages.target_size(rng)).encode()
    return Page(path, article.title, kind, len(data)), article, data


def _near_duplicate(
    rng: random.Random, i: int, roll: float, base: tuple[Page, pages.Article, bytes]
) -> tuple[Page, bytes]:
    page, article, data = base
    if roll < MIRROR_SHARE:
        return Page(f"/m{i}{page.path}", page.title, "mirror", len(data), page.path), data
    chrome = "news" if page.kind == "news" else "weixin"
    if roll < MIRROR_SHARE + RETEMPLATE_SHARE:
        copy = pages.render(article, chrome, rng, pages.target_size(rng)).encode()
        return Page(f"/news/{i}.html", page.title, "retemplate", len(copy), page.path), copy
    notice = f"本文转载自{article.account}，原标题：{article.title}，如有侵权请联系删除。"
    reprint = pages.Article(**{**asdict(article), "paragraphs": [*article.paragraphs, notice]})
    copy = pages.render(reprint, chrome, rng, pages.target_size(rng)).encode()
    return Page(f"/news/{i}.html", page.title, "reprint", len(copy), page.path), copy


def generate(root: Path, n: int, fresh: int, seed: int) -> Site:
    """Write `n` crawl pages (a share of them near-duplicates) and `fresh` new pages."""
    rng = random.Random(seed)
    originals: list[tuple[Page, pages.Article, bytes]] = []
    crawl: list[Page] = []
    dup_share = MIRROR_SHARE + RETEMPLATE_SHARE + REPRINT_SHARE
    for i in range(n):
        roll = rng.random()
        if originals and i >= 20 and roll < dup_share:
            page, data = _near_duplicate(rng, i, roll, rng.choice(originals))
        else:
            base = _original(rng, i, "news", root)
            originals.append(base)
            page, data = base[0], base[2]
        _write(root, page.path, data)
        crawl.append(page)
    if len({p.path for p in crawl}) != n:
        raise RuntimeError("generated pages share a URL path")
    new: list[Page] = []
    _write(root, pages.STYLESHEET, pages.stylesheet(rng).encode())
    for i in range(fresh):
        page, _article, data = _original(rng, n + i, "new", root)
        _write(root, page.path, data)
        new.append(page)
    return Site(root, crawl, new)


def load_or_generate(cache: Path, n: int, fresh: int, seed: int) -> Site:
    """The site for (n, fresh, seed), generated once into `cache` and reused."""
    root = cache / f"site-v{VERSION}-n{n}-f{fresh}-s{seed}"
    manifest = root / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text())
        return Site(root, [Page(**p) for p in data["pages"]], [Page(**p) for p in data["fresh"]])
    site = generate(root, n, fresh, seed)
    manifest.write_text(
        json.dumps(
            {
                "pages": [asdict(p) for p in site.pages],
                "fresh": [asdict(p) for p in site.fresh],
            },
            ensure_ascii=False,
        )
    )
    return site
