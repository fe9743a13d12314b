"""Re-checks over big archives: a `-a recheck=due` run costs what is due, not what is archived.

    python bench/recheck.py                       # archives of 10,000 and 100,000 links
    python bench/recheck.py --sizes 100000 --due 0 100 1000 --reps 3

Each archive (built once through the project's own storage code, cached like
bench/bigarchive.py's) holds N archived links on four loopback "sites" (127.0.0.1-4, one fixed
port), each first captured with an ETag. A working copy gets `due` of them, picked at random,
due now; `scrapy crawl sources -a recheck=due` then re-checks them against a loopback server
that answers every request carrying the page's ETag in If-None-Match with a bodiless 304
(`python -m bench.recheck --serve PORT`). Reported per run: wall time, CPU of the process tree,
peak RSS, the re-checks made and answered 304 (from the run report), and the time beyond the
same command with nothing due (Scrapy's start-up and opening the archive) per due link. If the
cost follows the due links, 1,000 due over 100,000 costs what 1,000 due over 10,000 does.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repo, not bench/, on the path

import argparse  # noqa: E402
import asyncio  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Any, ClassVar  # noqa: E402

from bench import bigarchive, measure, scenarios  # noqa: E402

PORT = 38418
HOSTS = ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")
LINKS_PER_DIGEST = 100


def url(n: int, port: int) -> str:
    """The cited URL of link n."""
    return f"http://{HOSTS[n % len(HOSTS)]}:{port}/p/{n}.html"


def etag(n: int) -> str:
    return f'"p{n}"'


def page(n: int) -> bytes:
    """A small article page whose text depends on n."""
    rng = random.Random(n)
    words = "".join(rng.choice("模型训练推理数据开源芯片算力评测参数团队发布") for _ in range(240))
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>第{n}号报道</title></head>'
        f"<body><article><h1>第{n}号报道</h1><p>{words}（{n}）。</p></article></body></html>"
    ).encode()


# -- the archive -----------------------------------------------------------------------------


def build(root: Path, size: int, port: int) -> None:
    """`root/archive` with `size` archived links (digests of 100 links citing them)."""
    from crawler.archive import Archive
    from crawler.items import Digest, Entry, Extracted, FetchOutcome, Link, Role, Status
    from crawler.urls import url_id

    archive = Archive(root / "archive").open()
    try:
        with bigarchive._no_fsync():
            for start in range(0, size, LINKS_PER_DIGEST):
                numbers = range(start, min(size, start + LINKS_PER_DIGEST))
                links = [
                    Link(url(n, port), Role.SOURCE, f"第{n}号", url(n, port), url_id(url(n, port)))
                    for n in numbers
                ]
                raw = "".join(f"- [{lk.text}]({lk.url})\n" for lk in links).encode()
                digest = Digest(
                    f"recheck-{start // LINKS_PER_DIGEST:05d}",
                    f"/bench/recheck/{start}.md",
                    hashlib.sha256(raw).hexdigest(),
                    "generic",
                    entries=[Entry(i + 1, lk.text, links=[lk]) for i, lk in enumerate(links)],
                )
                archive.record_digest(digest, raw, time.time())
                for n, link in zip(numbers, links, strict=True):
                    body = page(n)
                    headers = [
                        ("Content-Type", "text/html; charset=utf-8"),
                        ("ETag", etag(n)),
                        ("Content-Length", str(len(body))),
                    ]
                    fetched = time.time()
                    pointer = archive.warc.write_exchange(
                        url=link.url,
                        method="GET",
                        request_headers=[("User-Agent", "sources-bench")],
                        request_body=b"",
                        status=200,
                        protocol="HTTP/1.1",
                        response_headers=headers,
                        body=body,
                        fetched_at=fetched,
                        ip=HOSTS[n % len(HOSTS)],
                    )
                    archive.record_outcome(
                        FetchOutcome(
                            link_id=link.link_id or "",
                            canonical_url=link.url,
                            status=Status.ARCHIVED,
                            http_status=200,
                            final_url=link.url,
                            content_type=headers[0][1],
                            headers=headers,
                            body=body,
                            fetched_at=fetched,
                            original=pointer,
                            body_sha256=hashlib.sha256(body).hexdigest(),
                            extracted=Extracted(title=f"第{n}号报道", text=body.decode()[120:]),
                        )
                    )
    finally:
        archive.close()


def cached(cache: Path, size: int, port: int) -> Path:
    """The root of a built archive of `size` links, built on first use."""
    root = cache / f"recheck-{size}-p{port}-{bigarchive.source_key()}"
    if (root / "complete").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    started = time.time()
    build(root, size, port)
    (root / "digests").mkdir()  # working_copy copies it; the re-check run reads none
    (root / "complete").write_text(str(time.time()))
    print(f"built an archive of {size} links in {time.time() - started:.0f} s", flush=True)
    return root


def make_due(archive_dir: Path, size: int, due: int, port: int, seed: int) -> None:
    """`due` links of a working copy, picked at random, due now."""
    from crawler.archive import Archive
    from crawler.urls import url_id

    archive = Archive(archive_dir).open()
    try:
        for n in random.Random(seed).sample(range(size), due):
            archive.schedule_recheck(url_id(url(n, port)), 1.0)
    finally:
        archive.close()


# -- the server ------------------------------------------------------------------------------


class _Http(asyncio.Protocol):
    """One connection: pipelined GETs; a 304 to the page's own ETag, else the page."""

    served: ClassVar[dict[int, int]] = {200: 0, 304: 0, 404: 0}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self._answer(head.decode("latin-1"))

    def _answer(self, head: str) -> None:
        first, *lines = head.split("\r\n")
        path = first.split(" ")[1].split("?", 1)[0]
        headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines)}
        number = path.removeprefix("/p/").removesuffix(".html")
        if not (path.startswith("/p/") and number.isdigit()):
            status, body, extra = "404 Not Found", b"not found", ""
        elif headers.get("if-none-match") == etag(int(number)):
            status, body, extra = "304 Not Modified", b"", f"ETag: {etag(int(number))}\r\n"
        else:
            status, body, extra = "200 OK", page(int(number)), f"ETag: {etag(int(number))}\r\n"
        type(self).served[int(status[:3])] += 1
        length = "" if status.startswith("304") else f"Content-Length: {len(body)}\r\n"
        self.transport.write(
            (
                f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n{length}{extra}"
                "Connection: keep-alive\r\n\r\n"
            ).encode()
            + body
        )


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    servers = [await loop.create_server(_Http, host, port, backlog=512) for host in HOSTS]
    print(f"listening on port {port}", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


# -- the runs --------------------------------------------------------------------------------


def run(built: Path, work: Path, size: int, due: int, port: int, rep: int) -> dict[str, Any]:
    """One `-a recheck=due` run over a fresh working copy with `due` links due."""
    archive, _digests = bigarchive.working_copy(built, work / f"copy-{size}")
    make_due(archive, size, due, port, seed=rep)
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "sources",
        "-a",
        "recheck=due",
        "-s",
        f"ARCHIVE_DIR={archive}",
    ]
    settings = {
        **scenarios.RELAXED,
        "RECHECK_BUDGET": str(max(due, 1)),
        "RECHECK_SITE_SHARE": "1",
        "MONITOR_HISTORY": "0",
    }
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    usage = measure.run(command, log=work / f"recheck-{size}-{due}-{rep}.log", timeout=3600)
    report = scenarios.last_report(archive)
    checks = report.get("rechecks") or {}
    return {
        "size": size,
        "due": due,
        "rc": usage.rc,
        "wall": usage.wall,
        "cpu": usage.cpu,
        "rss_mb": usage.peak_rss / 2**20,
        "rechecked": checks.get("scheduled", 0),
        "not_modified": checks.get("not_modified", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--due", type=int, nargs="+", default=[0, 1000])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "sources-bench")
    parser.add_argument("--serve", action="store_true", help="run the page server only")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.port))
        return
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.recheck", "--serve", "--port", str(args.port)],
        cwd=scenarios.REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    work = Path(tempfile.mkdtemp(prefix="sources-recheck-"))
    results: list[dict[str, Any]] = []
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("listening"):
            raise SystemExit(f"the page server did not start: {line!r}")
        for size in args.sizes:
            built = cached(args.cache, size, args.port)
            base: float | None = None
            for due in args.due:
                runs = [run(built, work, size, due, args.port, rep) for rep in range(args.reps)]
                wall = statistics.median(r["wall"] for r in runs)
                result = {
                    **runs[0],
                    "wall": round(wall, 2),
                    "cpu": round(statistics.median(r["cpu"] for r in runs), 2),
                    "rss_mb": round(max(r["rss_mb"] for r in runs)),
                    "spread": round((max(r["wall"] for r in runs) - min(r["wall"] for r in runs))
                                    / wall, 2) if wall else 0.0,
                    "runs": len(runs),
                }  # fmt: skip
                if due == 0:
                    base = wall
                if base is not None and due:
                    result["beyond_nothing_due"] = round(wall - base, 2)
                    result["ms_per_due_link"] = round(1000 * (wall - base) / due, 2)
                results.append(result)
                print(
                    f"{size:>7} links, {due:>5} due: {result['wall']:.2f} s wall, "
                    f"{result['cpu']:.2f} s CPU, {result['rss_mb']} MB, "
                    f"{result['rechecked']} re-checked, {result['not_modified']} answered 304"
                    + (
                        f", {result['beyond_nothing_due']:.2f} s beyond nothing due "
                        f"({result['ms_per_due_link']} ms a due link)"
                        if "beyond_nothing_due" in result
                        else ""
                    )
                    + f", rc {result['rc']}",
                    flush=True,
                )
        print(json.dumps(results))
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
