"""`scrapy crawl`, plus an exit code: 1 when the run failed as a whole (see crawler.report)."""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawl

from crawler import report


class Command(ScrapyCrawl):
    """Scrapy's crawl command; a failed run (crawler.report) exits non-zero for cron/systemd."""

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        if report.EXIT_CODE and not self.exitcode:
            self.exitcode = report.EXIT_CODE
