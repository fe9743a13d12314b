"""Memory over a long crawl: ours over N distinct links, peak RSS against N.

    python bench/bigcrawl.py 10000 100000     # one crawl per size, each into a fresh archive

A loopback server (`python -m bench.bigcrawl --serve`) answers every `/p/<n>.html` with a
small generated news article (4–6 KB, its text depends on n), so a site of 100,000 pages
needs no disk. Digests of 50 links cite the pages once each. Ours runs as in bench/run.py
(politeness relaxed for loopback). If memory is bounded, peak RSS of the process tree stays
flat from 10,000 to 100,000 links; state per URL belongs in the SQLite index on disk.
Prints one line per size and a JSON line at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repo, not bench/, on the path

import argparse  # noqa: E402
import asyncio  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

from bench import digestgen, measure, scenarios, site  # noqa: E402

_WORDS = (
    "模型",
    "训练",
    "推理",
    "数据",
    "开源",
    "芯片",
    "算力",
    "智能体",
    "多模态",
    "评测",
    "参数",
    "语料",
    "团队",
    "发布",
    "应用",
)


def page(n: int) -> bytes:
    """The article at /p/<n>.html: title, date, author and ~30 sentences derived from n."""
    rng = random.Random(n)
    title = f"第{n}号报道：" + "".join(rng.choice(_WORDS) for _ in range(6))
    paras = "".join(
        "<p>"
        + "，".join("".join(rng.choice(_WORDS) for _ in range(5)) for _ in range(6))
        + f"（{n}-{i}）。</p>"
        for i in range(12)
    )
    html = (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>'
        f'<meta property="og:title" content="{title}">'
        f'<meta property="og:site_name" content="长测新闻">'
        '<meta property="article:published_time" '
        f'content="2026-03-{n % 28 + 1:02d}T08:00:00+08:00">'
        f'<meta name="author" content="记者{n % 97}"></head><body>'
        f'<div class="nav"><a href="/">首页</a> <a href="/ai">人工智能</a></div>'
        f"<article><h1>{title}</h1>{paras}</article>"
        f'<div class="footer">版权所有 长测新闻</div></body></html>'
    )
    return html.encode()


class _Generated:
    """The site's "files": /p/<n>.html made on request (bench.site's server reads `.get`)."""

    def get(self, path: str, default: bytes | None = None) -> bytes | None:
        number = path.removeprefix("/p/").removesuffix(".html")
        return page(int(number)) if path.startswith("/p/") and number.isdigit() else default


async def serve() -> None:
    site._Http.files = _Generated()  # type: ignore[assignment]
    server = await asyncio.get_running_loop().create_server(site._Http, "127.0.0.1", 0, backlog=512)
    print(f"listening http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


def crawl(size: int, work: Path, base: str) -> dict[str, float]:
    """Ours over `size` links into a fresh archive: wall, pages/s, peak RSS and PSS (MB)."""
    rng = random.Random(size)
    cites = [digestgen.Cite(f"{base}/p/{n}.html", f"第{n}号报道") for n in range(size)]
    digests, archive = work / f"digests-{size}", work / f"archive-{size}"
    groups = [cites[i : i + digestgen.LINKS_PER_DIGEST] for i in range(0, size, 50)]
    digestgen.write(digests, "long-ribao", groups, dt.date(2026, 3, 1), rng)
    usage = measure.run(
        scenarios.ours_command(digests, archive, {"PROGRESS_INTERVAL": "60"}),
        log=work / f"ours-{size}.log",
        timeout=4 * 3600,
    )
    report = scenarios.last_report(archive)
    shutil.rmtree(archive, ignore_errors=True)
    return {
        "links": size,
        "rc": usage.rc,
        "archived": report.get("links", {}).get("archived", 0),
        "wall_s": round(usage.wall, 1),
        "pages_per_s": round(size / usage.wall, 1),
        "peak_rss_mb": round(usage.peak_rss / 2**20),
        "peak_pss_mb": round(usage.peak_pss / 2**20),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--serve", action="store_true", help="run the page server only")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.bigcrawl", "--serve"],
        cwd=scenarios.REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    work = Path(tempfile.mkdtemp(prefix="sources-bigcrawl-"))
    try:
        assert server.stdout is not None
        base = server.stdout.readline().split()[1]
        results = []
        for size in args.sizes:
            result = crawl(size, work, base)
            results.append(result)
            print(
                f"{size:>7} links: {result['archived']} archived, {result['pages_per_s']} pages/s,"
                f" peak RSS {result['peak_rss_mb']} MB (PSS {result['peak_pss_mb']} MB),"
                f" rc {result['rc']}",
                flush=True,
            )
        print(json.dumps(results))
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
