"""Crash recovery: what a crawl does when it finds that the previous one was killed."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path
from typing import Any

from crawler.archive import layout, reindex
from crawler.archive.index import Index
from crawler.archive.warc import host_token
from crawler.archive.warcread import good_prefix

logger = logging.getLogger(__name__)

#: A temp file younger than this may belong to a live writer of a distributed run.
TEMP_FILE_AGE = 600


def recover(root: Path, index: Index, holders: list[dict[str, Any]]) -> None:
    """Cut the dead writers' WARC files back to their last sound record, then reindex.

    Records are fsynced before any JSON file points at them, so whatever follows the last
    sound record was never referenced: dropping it loses nothing. The index may lag the JSON
    files by the last few writes, so it is rebuilt from the files.
    """
    for holder in holders:
        _cut_tails(root, holder)
    old = time.time() - TEMP_FILE_AGE
    for tmp in root.rglob(".*.tmp"):
        with contextlib.suppress(OSError):
            if tmp.stat().st_mtime < old:
                tmp.unlink()
    counts = reindex.rebuild(root, index)
    logger.info("archive %s reindexed: %s", root, counts)


def _cut_tails(root: Path, holder: dict[str, Any]) -> None:
    """Cut the WARC files that `holder` was writing back to their last sound record."""
    host = host_token(str(holder.get("host", "")))
    suffix = f"-{host}-{holder.get('pid')}.warc.gz"
    for path in sorted((root / layout.WARC).glob("*.warc.gz")):
        if not path.name.endswith(suffix):
            continue
        size = path.stat().st_size
        end = good_prefix(path)
        if end < size:
            logger.warning(
                "%s: cutting a partly written record (%d bytes at offset %d)",
                path,
                size - end,
                end,
            )
            with path.open("r+b") as fh:
                fh.truncate(end)
                os.fsync(fh.fileno())
