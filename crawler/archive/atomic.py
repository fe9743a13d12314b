"""Crash-safe file writes: temp file, fsync, rename, fsync of the directory."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any


def write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # one temp name per process and thread: no other writer can hold it, and it is cheaper
    # than mkstemp's random names (a quarter of the crawl thread's time in writes)
    tmp = path.parent / f".{short_name(path.name)}.{os.getpid()}.{threading.get_ident()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


#: Bytes of a file name kept as it is in a name made from it (names end at 255 bytes).
NAME_BYTES = 160


def short_name(name: str, limit: int = NAME_BYTES) -> str:
    """`name` when it has at most `limit` bytes, else its start and a hash of it: a name to
    build longer names from (temp and quarantine files) that stays within the 255 bytes."""
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) <= limit:
        return name
    head = raw[: limit - 17].decode("utf-8", "ignore")
    return f"{head}~{hashlib.sha256(raw).hexdigest()[:16]}"


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def dumps(record: dict[str, Any]) -> bytes:
    """The one JSON encoding of archive records: UTF-8, sorted keys, stable across runs."""
    return (json.dumps(record, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()


def write_json(path: Path, record: dict[str, Any]) -> bool:
    """Atomically write `record`; skip the write when the file already holds it. True if written."""
    data = dumps(record)
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_bytes(path, data)
    return True


class DamagedRecord(ValueError):
    """A record file that is there but cannot be read as a JSON object (truncated, not JSON,
    not UTF-8, a list ...); `path` names it, `why` says what is wrong."""

    def __init__(self, path: Path, why: str):
        super().__init__(f"{path}: {why}")
        self.path = path
        self.why = why


def read_json(path: Path) -> dict[str, Any] | None:
    """Read a record, or None when the file does not exist; DamagedRecord when unreadable."""
    try:
        with path.open("rb") as fh:
            record = json.load(fh)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise DamagedRecord(path, "a folder, not a file") from None
    except ValueError as exc:  # not JSON, cut short, not UTF-8
        raise DamagedRecord(path, f"unreadable JSON ({str(exc)[:200]})") from None
    if not isinstance(record, dict):
        raise DamagedRecord(path, "not a JSON object")
    return record
