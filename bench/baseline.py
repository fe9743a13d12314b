"""The baseline: the plain Scrapy + trafilatura spider a user glues together in an afternoon.

    python -m bench.baseline URLS.txt OUT.jsonl [--concurrency 16] [--no-extract]

Fetches every URL of URLS.txt (one per line), runs `trafilatura.extract` (JSON with metadata)
in the callback, on the reactor thread, and writes one JSON line per page. No project settings
are loaded. `--no-extract` only fetches: the fetch-alone rate of the same crawl.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import scrapy
import trafilatura
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response


class BaselineSpider(scrapy.Spider):
    """Fetch, extract, write a JSON line."""

    name = "baseline"

    def __init__(self, urls: str, out: str, extract: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        self.urls = Path(urls).read_text().split()
        self.out = open(out, "w", encoding="utf-8")  # noqa: SIM115 - closed in closed()
        self.extract = extract

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response: Response) -> None:
        if not self.extract:
            self.out.write(f'{{"url": "{response.url}", "bytes": {len(response.body)}}}\n')
            return
        doc = trafilatura.extract(
            response.text, url=response.url, output_format="json", with_metadata=True
        )
        if doc:
            self.out.write(doc.replace("\n", " ") + "\n")

    def closed(self, reason: str) -> None:
        self.out.close()


def settings(concurrency: int) -> dict[str, Any]:
    """The same concurrency as ours, no politeness delays, nothing else changed."""
    return {
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "ROBOTSTXT_OBEY": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
    }


def main() -> None:
    """Command line: crawl the URL list into a JSON-lines file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls")
    parser.add_argument("out")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-extract", action="store_true")
    args = parser.parse_args()
    process = CrawlerProcess(settings(args.concurrency))
    process.crawl(BaselineSpider, urls=args.urls, out=args.out, extract=not args.no_extract)
    process.start()


if __name__ == "__main__":
    main()
