"""Peak memory of the crawl's whole process tree over a digest of hostile pages.

    python bench/hostile.py [--mix default|bombs|links|markup] [--workers auto]

A loopback `tests.e2e.faultserver.FaultServer` serves the pages: pages of 130,000 links, ten
gzip bombs over DOWNLOAD_MAXSIZE and ten just under it (60 MiB of HTML from 60 KB), 10 MB of
flat paragraphs and of nested tags, a bomb inside a bomb, and a few plain articles. Ours runs
with the project's defaults (DOWNLOAD_MAXSIZE, EXTRACT_WORKERS, the extraction bounds), only
politeness relaxed for loopback, under `bench.measure` (RSS of every process of the tree,
sampled every 0.1 s). Prints the peak RSS of the tree, the wall time and how each link ended;
the ceiling the README documents (500 MB) is what this measures.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repo, not bench/, on the path

import argparse  # noqa: E402
import collections  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

from bench import measure  # noqa: E402
from tests.e2e.faultserver import FaultServer, gzip_bomb, inflating  # noqa: E402

#: Paths of each mix (the last segment is made unique per link).
MIXES: dict[str, list[str]] = {
    "links": ["/links/130000"] * 3,
    "bombs": ["/gzipbomb"] * 10 + ["/inflate/60"] * 10 + ["/gzip2/60"] * 2,
    "markup": ["/flat/10240", "/nested/10240", "/flat/10240", "/nested/10240"],
    "skipbombs": ["/gzipbomb"] * 10,
    "inflates": ["/inflate/60"] * 10,
}
MIXES["default"] = [
    *MIXES["links"][:2],
    *MIXES["bombs"],
    *MIXES["markup"][:2],
    *["/article"] * 10,
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mix", default="default", choices=sorted(MIXES))
    parser.add_argument("--workers", default="auto", help="EXTRACT_WORKERS")
    parser.add_argument("-s", action="append", default=[], help="more NAME=VALUE settings")
    args = parser.parse_args()
    gzip_bomb()  # built before the crawl, so that each is served at once
    inflating(60)
    inflating(60, 2)
    with tempfile.TemporaryDirectory(prefix="sources-hostile-") as tmp, FaultServer() as server:
        work = Path(tmp)
        urls = [server.url(f"{p}/h{i}") for i, p in enumerate(MIXES[args.mix])]
        digests = work / "digests"
        digests.mkdir()
        lines = "\n".join(f"- [第{i}条]({url})" for i, url in enumerate(urls, 1))
        (digests / "hostile.md").write_text(f"# 敌意页面\n\n## 链接\n\n{lines}\n", "utf-8")
        settings = {
            "ALLOWED_PRIVATE_NETWORKS": "127.0.0.1/8",
            "ROBOTSTXT_OBEY": "False",
            "DOWNLOAD_DELAY": "0",
            "AUTOTHROTTLE_ENABLED": "False",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
            "PROGRESS_INTERVAL": "0",
            "EXTRACT_WORKERS": args.workers,
            **dict(s.split("=", 1) for s in args.s),
        }
        command = [sys.executable, "-m", "scrapy", "crawl", "sources", "-a"]
        command += [f"digests={digests}", "-s", f"ARCHIVE_DIR={work / 'archive'}"]
        for name, value in settings.items():
            command += ["-s", f"{name}={value}"]
        usage = measure.run(command, log=work / "crawl.log", timeout=1800)
        rows = subprocess.run(
            [sys.executable, "-m", "crawler.archive", "citations", str(work / "archive")],
            capture_output=True,
            text=True,
            cwd=measure.REPO,
            check=False,
        ).stdout.splitlines()
        ends: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
        for line in rows:
            row = json.loads(line)
            path = row["url"].split("/", 3)[-1].rsplit("/", 1)[0]
            ends[(row["status"], (row["reason"] or "")[:70])].append(path)
        for (status, reason), paths in sorted(ends.items()):
            kinds = ", ".join(f"{k} x{n}" for k, n in collections.Counter(paths).items())
            print(f"{len(paths):3d} {status:9s} {reason}  [{kinds}]")
        print(
            f"mix {args.mix}: {len(urls)} links, rc {usage.rc}, {usage.wall:.1f} s, peak RSS "
            f"(tree) {usage.peak_rss / 1e6:.0f} MB, peak PSS {usage.peak_pss / 1e6:.0f} MB, "
            f"{usage.peak_procs} processes at most"
        )
        if usage.rc != 0:
            print((work / "crawl.log").read_text()[-3000:])


if __name__ == "__main__":
    main()
