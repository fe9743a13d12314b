"""`scrapy crawl`, plus fail-fast checks and an exit code that reports the run (crawler.report)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scrapy.commands.crawl import Command as ScrapyCrawl

from crawler import report
from crawler.archive import Archive, layout
from crawler.archive.lock import ArchiveError, ArchiveLock
from crawler.digests import sources as inputs


class Command(ScrapyCrawl):
    """Scrapy's crawl command; a failed run exits 1 so that cron, systemd and Scrapyd notice."""

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args[:1] == ["sources"]:
            try:
                self._preflight(opts)
            except (inputs.InputError, ArchiveError, OSError) as exc:
                print(f"error: {exc}", file=sys.stderr)
                self.exitcode = 1
                return
        super().run(args, opts)
        if report.EXIT_CODE and not self.exitcode:
            self.exitcode = report.EXIT_CODE

    def _preflight(self, opts: argparse.Namespace) -> None:
        """Name a wrong digests path, a held or unwritable archive before anything starts."""
        assert self.settings is not None
        inputs.resolve(opts.spargs.get("digests") or self.settings.get("DIGESTS"))
        root = Path(self.settings.get("ARCHIVE_DIR"))
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-test-{id(self)}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise OSError(f"archive {root} is not writable: {exc.strerror or exc}") from None
        shared = bool(self.settings.get("REDIS_URL"))
        ArchiveLock(root / layout.LOCK).check(shared=shared)
        # Open it once (recovering from a crash if needed) so that a broken index, a schema
        # mismatch or a full disk is one clear line here rather than a traceback later.
        Archive(root, shared=shared).open().close()
