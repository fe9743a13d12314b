"""Time another checkout's search on the queries `bench/search.py` asked.

    python bench/search_versions.py CHECKOUT ARCHIVE INDEX [QUERIES]

CHECKOUT is a tree of this project at another commit (`git worktree add /tmp/old REV`), INDEX
that version's search index of ARCHIVE (copy it aside before the newer code rebuilds it), and
QUERIES the JSON file `bench/search.py` wrote (default: the 100,000-article one). Prints the
median and 95th percentile of each kind, as `bench/search.py` does: each query once to warm up,
then five times; a query whose warm-up takes over 5 s is counted once.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    checkout, archive, index_path = map(Path, sys.argv[1:4])
    default = Path(tempfile.gettempdir()) / "sources-bench" / "search-queries-100000.json"
    queries = Path(sys.argv[4]) if len(sys.argv) == 5 else default
    sys.path.insert(0, str(checkout.resolve()))
    from crawler.archive.search import SearchIndex

    index = SearchIndex(archive, index_path)
    every: list[float] = []
    print("| query kind | median ms | p95 ms |\n| --- | ---: | ---: |")
    for kind, asked in json.loads(queries.read_text()).items():
        times: list[float] = []
        for query, filters in asked:
            t = time.perf_counter()
            index.search(query, **filters)
            first = (time.perf_counter() - t) * 1000
            if first > 5000:
                print(f"  ({query!r}: {first:.0f} ms, timed once)")
                times.append(first)
                continue
            for _ in range(5):
                t = time.perf_counter()
                index.search(query, **filters)
                times.append((time.perf_counter() - t) * 1000)
        every += times
        print(f"| {kind} | {statistics.median(times):.1f} | {_p95(times):.1f} |", flush=True)
    print(f"| all | {statistics.median(every):.1f} | {_p95(every):.1f} |")
    return 0


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


if __name__ == "__main__":
    sys.exit(main())
