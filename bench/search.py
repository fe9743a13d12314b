"""Search and reader speed over a large archive: `python bench/search.py [--articles 100000]`.

Builds (once, cached) an archive of N articles through the project's own storage code, as
`bench/bigarchive.py` does, but with article texts of realistic length (800-4,000 characters,
median about 2,400: a WeChat article's), then:

- builds the search index from the files (`reindex`'s part) and reports its time and size;
- a refresh with nothing new (what every search and reader list does first);
- queries of several kinds, each run `--reps` times after a warm-up, median and 95th percentile:
  names and words that nearly every article holds (the generator's vocabulary is small: the
  worst case for ranking), rarer phrases taken from one article, two-character terms (the
  short index), several terms, and filtered queries;
- reader pages through Flask's test client (no network): the digest list, a digest of about 50
  links with its summary check, an article, a search page.

Figures are wall-clock medians on this machine; the README quotes them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import inspect
import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import bigarchive, digestgen, text  # noqa: E402


def _store_links(archive: Any, digest: Any, seen: set[str], rng: random.Random) -> None:
    from crawler.urls import url_id

    for entry in digest.entries:
        for link in entry.links:
            url = link.canonical_url
            if not url or url in seen:
                continue
            seen.add(url)
            paras = text.paragraphs(rng, rng.randint(800, 4000))
            body = bigarchive._BODY.format(
                title=entry.title, paras="".join(f"<p>{p}</p>" for p in paras)
            )
            bigarchive._record(
                archive, url_id(url), url, entry.title, "\n".join(paras), body.encode()
            )


def build(root: Path, articles: int, seed: int) -> Path:
    """root/archive with `articles` articles (cached by size, seed and the code it depends on)."""
    made_by = inspect.getsource(build) + inspect.getsource(_store_links)
    key = hashlib.sha256((bigarchive.source_key() + made_by).encode()).hexdigest()[:10]
    done = root / f"search-{articles}-s{seed}-{key}"
    if (done / "complete").exists():
        return done / "archive"
    shutil.rmtree(done, ignore_errors=True)
    done.mkdir(parents=True)
    from crawler.archive import Archive
    from crawler.digests import parse_digest

    rng = random.Random(seed)
    cites = [digestgen.Cite(bigarchive._url(rng, i), text.title(rng)) for i in range(articles)]
    groups = digestgen.plan(cites, rng)
    paths = digestgen.write(done / "digests", "ribao", groups, dt.date(2020, 1, 1), rng)
    archive = Archive(done / "archive").open()
    seen: set[str] = set()
    started = time.time()
    try:
        with bigarchive._no_fsync():
            for n, path in enumerate(paths, 1):
                raw = path.read_bytes()
                digest = parse_digest(raw, str(path))
                archive.record_digest(digest, raw, time.time())
                _store_links(archive, digest, seen, rng)
                if n % 200 == 0:
                    print(f"  {n}/{len(paths)} digests, {time.time() - started:.0f} s", flush=True)
    finally:
        archive.close()
    (done / "complete").write_text(str(time.time()))
    return done / "archive"


def _timed(fn: Any, reps: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _matches(db: Any, query: str) -> int:
    """How many documents a query matches, filters aside (what ranking has to weigh)."""
    from crawler.archive.search import Query, _in_both

    parsed = Query.parse(query)
    long, short = parsed.long_match(), parsed.short_match()
    if long and short:  # merged as search() merges them: `rowid IN (...)` looks each one up
        walks = [
            db.execute(f"SELECT rowid FROM {t} WHERE {t} MATCH ? ORDER BY rowid DESC", (m,))
            for t, m in (("fts", long), ("short", short))
        ]
        return sum(1 for _ in _in_both(*walks))
    table = "fts" if long else "short"
    sql = f"SELECT count(*) FROM {table} WHERE {table} MATCH ?"
    return int(db.execute(sql, (long or short,)).fetchone()[0])


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "sources-bench")
    parser.add_argument(
        "--keep-index",
        action="store_true",
        help="refresh the search index there is instead of building it anew (not timed then)",
    )
    args = parser.parse_args()

    from crawler.archive.search import SearchIndex
    from crawler.archive.web import create_app

    t = time.time()
    root = build(args.cache, args.articles, args.seed)
    print(f"archive of {args.articles} articles ready in {time.time() - t:.0f} s: {root}")
    index = SearchIndex(root)
    t = time.time()
    counts = index.refresh(wait=True) if args.keep_index else index.rebuild()
    assert counts is not None
    built = time.time() - t
    if args.keep_index:
        with sqlite3.connect(index.path) as db:
            (counts["articles"],) = db.execute("SELECT count(*) FROM docs").fetchone()
    size = sum(p.stat().st_size for p in root.glob("search.sqlite3*"))
    text_bytes = sum(p.stat().st_size for p in (root / "articles").glob("*/*.json"))
    print(
        f"search index {'refreshed' if args.keep_index else 'built'} in {built:.0f} s "
        f"({counts}); {size / 2**20:.0f} MiB "
        f"(article records: {text_bytes / 2**20:.0f} MiB)"
    )
    refresh = _timed(lambda: index.refresh(wait=True), args.reps)
    print(f"refresh with nothing new: median {statistics.median(refresh):.0f} ms")

    rng = random.Random(3)
    sample = [
        h for h in index.search("模型", limit=200)[0] if h.article
    ]  # texts to take rare phrases from
    rare = []
    db = sqlite3.connect(index.path)
    rowids = [r for (r,) in db.execute("SELECT rowid FROM docs WHERE kind='article' ORDER BY 1")]
    for rowid in rng.sample(rowids, 10):
        row = db.execute("SELECT text FROM fts WHERE rowid=?", (rowid,)).fetchone()
        if row and len(row[0]) > 40:
            at = rng.randrange(0, len(row[0]) - 20)
            rare.append(row[0][at : at + 8].replace('"', "").strip())
    kinds: dict[str, list[tuple[str, dict[str, Any]]]] = {
        "common name or word (in most articles)": [
            ("OpenAI", {}),
            ("英伟达", {}),
            ("多模态大模型", {}),
            ("字节跳动", {}),
            ("推理芯片", {}),
        ],
        "8 characters of one article's text": [(q, {}) for q in rare[:8]],
        "two characters (short index)": [("芯片", {}), ("华为", {}), ("AI", {}), ("智谱", {})],
        "several terms": [("OpenAI 推理模型", {}), ("英伟达 训练集群 金融", {})],
        "filtered": [
            ("大模型", {"sites": ["mp.weixin.qq.com"]}),
            ("推理芯片", {"since": "2024-06-01"}),
            ("OpenAI", {"statuses": ["archived"]}),
        ],
    }
    asked = args.cache / f"search-queries-{args.articles}.json"
    asked.write_text(json.dumps(kinds, ensure_ascii=False, indent=1))
    print(f"queries: {asked}")
    every: list[float] = []
    print(
        "\n| query kind | queries | documents matched (median) | median ms | p95 ms |"
        "\n| --- | ---: | ---: | ---: | ---: |"
    )
    for kind, queries in kinds.items():
        times: list[float] = []
        for query, filters in queries:
            times += _timed(lambda q=query, f=filters: index.search(q, **f), args.reps)
        every += times
        matched = statistics.median(_matches(db, q) for q, _ in queries)
        print(
            f"| {kind} | {len(queries)} | {matched:,.0f} | {statistics.median(times):.1f} | "
            f"{_p95(times):.1f} |"
        )
    db.close()
    print(
        f"| **all** | {sum(len(q) for q in kinds.values())} | | "
        f"**{statistics.median(every):.1f}** | {_p95(every):.1f} |"
    )

    app = create_app(root, refresh=False)
    client = app.test_client()
    digests, _ = index.digests(limit=1)
    article = sample[0].article if sample else None
    pages = {
        "digest list (/)": "/",
        "a digest of ~50 links, summaries checked": f"/digest/{digests[0]['id']}",
        "an article": f"/article/{article}",
        "search page (/search?q=推理芯片)": "/search?q=推理芯片",
    }
    print("\n| reader page | median ms | p95 ms |\n| --- | ---: | ---: |")
    for name, path in pages.items():
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        times = _timed(lambda p=path: client.get(p), args.reps * 4)
        print(f"| {name} | {statistics.median(times):.1f} | {_p95(times):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
