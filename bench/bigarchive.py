"""Large archives (10k, 100k articles) built through the project's own storage code, cached.

The archive is what nightly runs would have left: digests read (their files kept in a digests
folder beside it), one archived link per article with a small original in WARC, article
records, the index. It is built with `crawler.archive.Archive.record_digest` and
`record_outcome`, with fsync turned off in the building process only (a cache, not a crawl).
Each measured run gets a working copy at a fixed place (`<cache>/nightly-<size>/`, the digest
paths the archive recorded, as a nightly cron job's folder would be): record and digest files
are hard-linked (the archive replaces files by rename, never rewrites them in place), the index
is copied.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import random
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from bench import digestgen, text

REPO = Path(__file__).resolve().parents[1]
#: Sources whose change invalidates a cached archive.
_KEYED = (
    "bench/bigarchive.py",
    "bench/digestgen.py",
    "crawler/archive",
    "crawler/digests",
    "crawler/urls.py",
    "crawler/items.py",
)
#: Of those, the code that only reads an archive (its change leaves a cached archive valid).
_READERS = (
    "crawler/archive/__main__.py",
    "crawler/archive/check.py",
    "crawler/archive/details.py",
    "crawler/archive/export.py",
    "crawler/archive/search.py",
    "crawler/archive/web",
)
_HOSTS = (
    "https://www.qbitai.com/2025/{m:02d}/{n}.html",
    "https://mp.weixin.qq.com/s/{tok}",
    "https://www.ithome.com/0/{a}/{b}.htm",
    "https://www.jiqizhixin.com/articles/2025-{m:02d}-{d:02d}-{b}",
    "https://36kr.com/p/{n}",
    "https://news.aibase.com/zh/news/{n}",
    "https://www.oschina.net/news/{n}",
)
_BODY = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
    "<body><article><h1>{title}</h1>{paras}</article></body></html>"
)


def source_key() -> str:
    """A short hash of the code an archive's shape depends on."""
    digest = hashlib.sha256()
    for name in _KEYED:
        path = REPO / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            rel = file.relative_to(REPO).as_posix()
            if not any(rel == r or rel.startswith(r + "/") for r in _READERS):
                digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def _url(rng: random.Random, i: int) -> str:
    return rng.choice(_HOSTS).format(
        m=rng.randint(1, 12),
        d=rng.randint(1, 28),
        n=10**6 + i,
        a=i // 1000,
        b=i % 1000 + 1000 * i,
        tok=f"{rng.getrandbits(88):022x}{i:x}",
    )


@contextlib.contextmanager
def _no_fsync() -> Iterator[None]:
    """os.fsync as a no-op, for building a cache archive fast."""
    with mock.patch("os.fsync", lambda fd: None):
        yield


def _store_links(archive: object, digest: object, seen: set[str], rng: random.Random) -> None:
    """Record every link of a digest not archived before as archived, with a small page."""
    from crawler.urls import url_id

    for entry in digest.entries:  # type: ignore[attr-defined]
        for link in entry.links:
            url = link.canonical_url
            if not url or url in seen:
                continue
            seen.add(url)
            paras = text.paragraphs(rng, rng.randint(200, 600))
            body = _BODY.format(title=entry.title, paras="".join(f"<p>{p}</p>" for p in paras))
            _record(archive, url_id(url), url, entry.title, "\n".join(paras), body.encode())


def _record(archive: object, link_id: str, url: str, title: str, txt: str, body: bytes) -> None:
    """One archived link: WARC exchange, article, link record (as the store pipeline does)."""
    fetched = time.time()
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
    pointer = archive.warc.write_exchange(  # type: ignore[attr-defined]
        url=url,
        method="GET",
        request_headers=[("User-Agent", "sources-bench")],
        request_body=b"",
        status=200,
        protocol="HTTP/1.1",
        response_headers=headers,
        body=body,
        fetched_at=fetched,
        ip="127.0.0.1",
    )
    from crawler.items import Extracted, FetchOutcome, Status

    archive.record_outcome(  # type: ignore[attr-defined]
        FetchOutcome(
            link_id=link_id,
            canonical_url=url,
            status=Status.ARCHIVED,
            http_status=200,
            final_url=url,
            content_type=headers[0][1],
            headers=headers,
            body=body,
            fetched_at=fetched,
            ip="127.0.0.1",
            original=pointer,
            body_sha256=hashlib.sha256(body).hexdigest(),
            extracted=Extracted(title=title, language="zh", text=txt),
        )
    )


def build(root: Path, articles: int, seed: int, read_from: Path) -> None:
    """Write `root/digests/*.md` citing `articles` URLs and `root/archive` holding them.

    The digests are recorded as read from `read_from` (where working copies put them).
    """
    from crawler.archive import Archive
    from crawler.digests import parse_digest

    rng = random.Random(seed)
    cites = [digestgen.Cite(_url(rng, i), text.title(rng)) for i in range(articles)]
    groups = digestgen.plan(cites, rng)
    paths = digestgen.write(root / "digests", "old-ribao", groups, dt.date(2015, 1, 1), rng)
    archive = Archive(root / "archive").open()
    seen: set[str] = set()
    try:
        with _no_fsync():
            for path in paths:
                raw = path.read_bytes()
                source = str(read_from / path.name)
                digest = parse_digest(raw, source)
                archive.record_digest(digest, raw, time.time())
                _store_links(archive, digest, seen, rng)
                note = getattr(archive, "note_digest_file", None)  # the nightly fast path
                if note is not None:
                    info = path.stat()
                    note(source, info.st_size, info.st_mtime_ns)
    finally:
        archive.close()


def work_dir(cache: Path, articles: int) -> Path:
    """Where working copies of the archive of `articles` articles are made."""
    return cache.resolve() / f"nightly-{articles}"


def cached(cache: Path, articles: int, seed: int = 11) -> Path:
    """The root of a built archive of `articles` articles, building it on first use."""
    root = cache / f"archive-{articles}-s{seed}-{source_key()}"
    if (root / "complete").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    build(root, articles, seed, work_dir(cache, articles) / "digests")
    (root / "complete").write_text(str(time.time()))
    return root


def _link_or_copy(src: str, dst: str) -> None:
    if Path(src).name.startswith("index.sqlite3"):
        shutil.copy2(src, dst)
    else:
        os.link(src, dst)


def working_copy(built: Path, dest: Path) -> tuple[Path, Path]:
    """(archive, digests) of a fresh copy of a built archive under `dest`."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    ignore = shutil.ignore_patterns("crawl.lock")
    shutil.copytree(built / "archive", dest / "archive", copy_function=_link_or_copy, ignore=ignore)
    shutil.copytree(built / "digests", dest / "digests", copy_function=os.link)
    return dest / "archive", dest / "digests"
