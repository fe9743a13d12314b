"""Crash recovery: what a crawl does when it finds that the previous one was killed."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from crawler.archive import layout
from crawler.archive.warc import host_token
from crawler.archive.warcfile import good_prefix

if TYPE_CHECKING:
    from crawler.archive.store import Archive

logger = logging.getLogger(__name__)


def recover(archive: Archive, holders: list[dict[str, Any]]) -> None:
    """Cut the dead writer's WARC files back to their last sound record, then reindex.

    Records are fsynced before any JSON file points at them, so whatever follows the last
    sound record was never referenced: dropping it loses nothing. The index may lag the JSON
    files by the last few writes, so it is rebuilt from the files.
    """
    for holder in holders:
        _cut_tails(archive, holder)
    old = time.time() - 600  # a temp file of a live writer in a distributed run is younger
    for tmp in archive.root.rglob(".*.tmp"):
        with contextlib.suppress(OSError):
            if tmp.stat().st_mtime < old:
                tmp.unlink()
    counts = archive.reindex()
    logger.info("archive %s reindexed: %s", archive.root, counts)


def _cut_tails(archive: Archive, holder: dict[str, Any]) -> None:
    """Cut the WARC files that `holder` was writing back to their last sound record."""
    host = host_token(str(holder.get("host", "")))
    suffix = f"-{host}-{holder.get('pid')}.warc.gz"
    for path in sorted((archive.root / layout.WARC).glob("*.warc.gz")):
        if not path.name.endswith(suffix):
            continue
        size = path.stat().st_size
        end = good_prefix(path)
        if end < size:
            logger.warning("%s: cutting a partly written record (%d bytes at offset %d)",
                           path, size - end, end)
            with path.open("r+b") as fh:
                fh.truncate(end)
                os.fsync(fh.fileno())
