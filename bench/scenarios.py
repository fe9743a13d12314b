"""The measured runs: ours, the baseline, fetch alone, the ceilings, no-op nightly runs."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import measure
from bench.measure import Usage

REPO = measure.REPO
#: Politeness relaxed for a loopback site (ours). The baseline gets the same concurrency.
RELAXED = {
    "ALLOWED_PRIVATE_NETWORKS": "127.0.0.1/8",
    "ROBOTSTXT_OBEY": "False",
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "PROGRESS_INTERVAL": "0",
    # the cached archives' links (real sites) would be due for re-checks a day after they were
    # built: the measured runs are first fetches and no-op nights (bench/recheck.py: re-checks)
    "RECHECK_PER_RUN": "0",
}
#: CONCURRENT_REQUESTS of ours (crawler.settings), used for the baseline too.
CONCURRENCY = 16
#: Requisites off: ours as the baseline crawls, pages only (the ratios are measured so).
REQUISITES_OFF = {"ARTICLE_IMAGES_DOMAINS": "", "REQUISITES_STYLES": "False"}


@dataclass
class Result:
    """One measured run."""

    name: str
    pages: int  # pages the rate is counted over
    usage: Usage
    seconds: float  # the time the rate is counted over (wall, or the loop for ceilings)
    cpu: float  # CPU seconds counted for those pages
    out_bytes: int | None = None  # what the run stored
    main_cpu: float | None = None  # CPU seconds of the crawl's own process (pool excluded)
    info: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.cpu / self.pages if self.pages else 0.0


def ours_command(digests: Path, archive: Path, settings: dict[str, str] | None = None) -> list[str]:
    """`scrapy crawl sources` into `archive` with the relaxed politeness settings."""
    command = [
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
    for name, value in {**RELAXED, **(settings or {})}.items():
        command += ["-s", f"{name}={value}"]
    return command


def requisite_counts(archive: Path) -> dict[str, int]:
    """Requisites recorded in an archive's articles: by status, and shared by URL or payload."""
    counts: dict[str, int] = {}
    for path in (archive / "articles").glob("*/*.json"):
        for entry in (json.loads(path.read_text()).get("attachments") or {}).values():
            for key in (entry.get("status"), f"dedupe_{entry.get('dedupe') or 'none'}"):
                counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def dir_bytes(path: Path) -> int:
    """Bytes of every file under `path`."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def last_report(archive: Path) -> dict[str, Any]:
    """The newest `runs/<id>.json` of an archive ({} when there is none)."""
    runs = sorted((archive / "runs").glob("*.json"), key=lambda p: p.stat().st_mtime)
    return json.loads(runs[-1].read_text()) if runs else {}


def ours(
    name: str,
    digests: Path,
    archive: Path,
    log: Path,
    *,
    expect: int,
    served: Any,
    settings: dict[str, str] | None = None,
    requisites: bool = False,
) -> Result:
    """One `scrapy crawl sources` run; `expect` links should be fetched and archived (and,
    with `requisites`, their pages' images and stylesheets beside them)."""
    before = served()
    usage = measure.run(ours_command(digests, archive, settings), log=log)
    fetched = served() - before
    report = last_report(archive)
    links = report.get("links", {})
    problems = []
    if usage.rc != 0:
        problems.append(f"exit code {usage.rc} (see {log})")
    pages_fetched = min(fetched, expect) if requisites else fetched
    if pages_fetched != expect or links.get("archived") != expect:
        problems.append(
            f"expected {expect} fetched and archived, got {fetched} fetched, "
            f"{links.get('archived')} archived"
        )
    info = {
        "fetched": fetched,
        "digests": report.get("digests", {}),
        "scheduled": links.get("scheduled"),
        "archived": links.get("archived"),
        "warc_bytes": dir_bytes(archive / "warc") if (archive / "warc").exists() else 0,
    }
    if requisites:
        info["requisites_fetched"] = fetched - expect
        info["requisites"] = requisite_counts(archive)
    return Result(
        name,
        max(expect, 1),
        usage,
        usage.wall,
        usage.cpu,
        dir_bytes(archive) if archive.exists() else 0,
        usage.main_cpu,
        info,
        problems,
    )


def baseline(
    name: str, urls: Path, out: Path, log: Path, *, expect: int, served: Any, extract: bool = True
) -> Result:
    """The plain spider over the URL list (fetch alone with `extract=False`)."""
    # -m, not the script's path: bench/ on sys.path would shadow modules such as `profile`
    command = [
        sys.executable,
        "-m",
        "bench.baseline",
        str(urls),
        str(out),
        "--concurrency",
        str(CONCURRENCY),
    ]
    if not extract:
        command.append("--no-extract")
    before = served()
    usage = measure.run(command, log=log, cwd=out.parent)
    fetched = served() - before
    lines = len(out.read_text(encoding="utf-8").splitlines()) if out.exists() else 0
    problems = []
    if usage.rc != 0:
        problems.append(f"exit code {usage.rc} (see {log})")
    if fetched != expect:
        problems.append(f"expected {expect} fetched, got {fetched}")
    return Result(
        name,
        max(expect, 1),
        usage,
        usage.wall,
        usage.cpu,
        out.stat().st_size if out.exists() else 0,
        usage.main_cpu,
        {"fetched": fetched, "json_lines": lines},
        problems,
    )


def startup(work: Path, log: Path) -> Result:
    """Scrapy's own start-up and shut-down: the plain spider with no URL to fetch."""
    urls = work / "no-urls.txt"
    urls.write_text("")
    command = [sys.executable, "-m", "bench.baseline", str(urls), str(work / "no-urls.jsonl")]
    usage = measure.run(command, log=log, cwd=work)
    return Result("scrapy start-up", 1, usage, usage.wall, usage.cpu, main_cpu=usage.main_cpu)


def ceiling(
    name: str,
    pages: Path,
    work: Path,
    log: Path,
    *,
    workers: int = 0,
    extractor: str = "trafilatura",
) -> Result:
    """Extraction alone over saved pages; the rate counts the loop, not the start-up."""
    out = work / f"ceiling-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')[:40]}.json"
    command = [
        sys.executable,
        "-m",
        "bench.ceiling",
        str(pages),
        str(out),
        "--workers",
        str(workers),
        "--extractor",
        extractor,
    ]
    usage = measure.run(command, log=log, cwd=work)
    problems = [] if usage.rc == 0 else [f"exit code {usage.rc} (see {log})"]
    data = json.loads(out.read_text()) if out.exists() else {"pages": 1, "seconds": 0, "cpu": 0}
    return Result(
        name,
        data["pages"],
        usage,
        data["seconds"],
        data["cpu"],
        info={"process_wall": usage.wall},
        problems=problems,
    )
