"""Crash recovery: what a crawl does when it finds that the previous one was killed.

Only the dead writer's own unfinished tail is removed: the bytes of a WARC file it was writing
after its last whole gzip member, and never before the end of the furthest record a JSON file
points at. A record damaged elsewhere in the file (a flipped byte, bad sectors) stays where it
is for `verify` to name and `repair` to quarantine; nothing after it is lost.

Every step can be repeated and can be cut short by a kill: the tails are cut to the same
length again (a second cut finds nothing to cut), stale temp files are removed, and the index
is rebuilt from the files in one transaction. The dead holders stay in `recovery.json` (see
`crawler.archive.lock`) until all of it has finished.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path
from typing import Any

from crawler.archive import layout, reindex
from crawler.archive.index import Index
from crawler.archive.reader import OnDamaged, warn_damaged
from crawler.archive.warc import host_token
from crawler.archive.warcread import complete_end

logger = logging.getLogger(__name__)

#: A temp file younger than this may belong to a live writer of a distributed run.
TEMP_FILE_AGE = 600


def recover(
    root: Path,
    index: Index,
    holders: list[dict[str, Any]],
    *,
    on_damaged: OnDamaged = warn_damaged,
    alone: bool = True,
) -> dict[str, int]:
    """Rebuild the index, then cut the dead writers' WARC files back to their unfinished tail.

    Records are fsynced before any JSON file points at them, so the tail after the last whole
    member was never referenced; the index rebuild (which reads every record anyway) says how
    far the JSON files point into each WARC file, and no cut goes below that. `alone`: no
    other process writes the archive (a single crawl), so a holder whose record was unreadable
    has its tails looked for in every WARC file. Returns the reindex counts.
    """
    pointed: dict[str, int] = {}
    counts = reindex.rebuild(root, index, on_damaged=on_damaged, pointers=pointed)
    logger.info("archive %s reindexed: %s", root, counts)
    for path in _files_of(root, holders, alone):
        cut_tail(root, path, pointed.get(layout.relative(root, path), 0))
    old = time.time() - TEMP_FILE_AGE
    for tmp in root.rglob(".*.tmp"):
        with contextlib.suppress(OSError):
            if tmp.stat().st_mtime < old:
                tmp.unlink()
    return counts


def _files_of(root: Path, holders: list[dict[str, Any]], alone: bool) -> list[Path]:
    """The WARC files the dead `holders` may have been writing."""
    files = sorted((root / layout.WARC).glob("*.warc.gz"))
    suffixes = tuple(
        f"-{host_token(str(h.get('host', '')))}-{h.get('pid')}.warc.gz" for h in holders
    )
    unknown = any(str(h.get("pid", "?")) == "?" for h in holders)
    if unknown and alone:
        return files
    return [path for path in files if path.name.endswith(suffixes)]


def cut_tail(root: Path, path: Path, pointed_end: int = 0) -> int:
    """Cut `path` after its last whole gzip member (not below `pointed_end`); bytes cut."""
    size = path.stat().st_size
    end = min(size, max(complete_end(path), pointed_end))
    if end >= size:
        return 0
    logger.warning(
        "%s: cutting a partly written record (%d bytes at offset %d)",
        layout.relative(root, path),
        size - end,
        end,
    )
    with path.open("r+b") as fh:
        fh.truncate(end)
        os.fsync(fh.fileno())
    return size - end
