"""The ceiling: extraction over the saved pages in a loop, no network.

    python -m bench.ceiling PAGES.txt OUT.json [--workers K] [--extractor trafilatura|ours]

PAGES.txt lists `URL<TAB>FILE` lines. Pages are read into memory first; the timed loop runs
`trafilatura.extract` (JSON with metadata, as the baseline does) or our
`crawler.extractors.extract`, on this process (`--workers 0`) or in a pool of K processes.
OUT.json gets pages, seconds (the loop only), cpu (the loop's, pool workers included).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def with_trafilatura(url: str, body: bytes) -> int:
    """What the baseline does with a page: extracted JSON's length."""
    import trafilatura

    doc = trafilatura.extract(
        body.decode("utf-8"), url=url, output_format="json", with_metadata=True
    )
    return len(doc or "")


def with_ours(url: str, body: bytes) -> int:
    """What our crawl's extract step does with a page: extracted text's length."""
    from crawler.extractors import extract

    return len(extract(url, body, "text/html; charset=utf-8").text)


EXTRACTORS: dict[str, Callable[[str, bytes], int]] = {
    "trafilatura": with_trafilatura,
    "ours": with_ours,
}


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run(pages: list[tuple[str, bytes]], workers: int, name: str) -> dict[str, float]:
    """Extract every page; seconds and CPU seconds of the loop alone."""
    fn = EXTRACTORS[name]
    fn(*pages[0])  # imports and first-call set-up are not the loop's
    if workers <= 0:
        cpu, started = _cpu(), time.perf_counter()
        for url, body in pages:
            fn(url, body)
        return {"seconds": time.perf_counter() - started, "cpu": _cpu() - cpu}
    # fork: the workers are this process's children, so their CPU is in RUSAGE_CHILDREN
    # once shut down, and they inherit the imports done by the warm-up call above
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(workers, mp_context=context)
    list(pool.map(fn, *zip(*pages[:workers], strict=True)))  # start the workers
    cpu, started = _cpu(), time.perf_counter()
    list(pool.map(fn, *zip(*pages, strict=True), chunksize=1))
    seconds = time.perf_counter() - started
    pool.shutdown(wait=True)
    return {"seconds": seconds, "cpu": _cpu() - cpu}


def main() -> None:
    """Command line: time extraction over a page list."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--extractor", choices=sorted(EXTRACTORS), default="trafilatura")
    args = parser.parse_args()
    pages = []
    for line in args.pages.read_text().splitlines():
        url, path = line.split("\t")
        pages.append((url, Path(path).read_bytes()))
    result = run(pages, args.workers, args.extractor)
    args.out.write_text(json.dumps({"pages": len(pages), **result}))


if __name__ == "__main__":
    main()
