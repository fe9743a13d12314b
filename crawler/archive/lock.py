"""One writer per archive: an flock'd lock file that names its holder."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Any


class ArchiveLocked(RuntimeError):
    """Another live crawl holds the archive."""


class ArchiveLock:
    """Exclusive lock on an archive directory.

    The kernel drops an flock when its process dies, so a lock left by a killed crawl is taken
    over at once; `stale` then holds what the dead holder had written, which tells the archive
    to run its crash recovery.
    """

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None
        self.stale: dict[str, Any] | None = None

    def acquire(self) -> None:
        """Take the lock or raise ArchiveLocked naming the holder."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise ArchiveLocked(_held(self.path, holder)) from None
        previous = _read_holder(fd)
        self.stale = previous or None
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        os.fsync(fd)
        self._fd = fd

    def check(self) -> None:
        """Raise ArchiveLocked if a live crawl holds the lock; change nothing otherwise."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ArchiveLocked(_held(self.path, _read_holder(fd))) from None
        finally:
            os.close(fd)

    def release(self) -> None:
        """Clear the holder record (a clean stop) and unlock."""
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        os.fsync(self._fd)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def _held(path: Path, holder: dict[str, Any]) -> str:
    return (
        f"archive {path.parent} is held by another crawl (pid {holder.get('pid', '?')} on "
        f"{holder.get('host', '?')}, started {holder.get('started', '?')}); "
        "wait for it to finish"
    )


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        data = os.pread(fd, 4096, 0)
        holder = json.loads(data) if data.strip() else {}
    except (OSError, ValueError):
        return {"pid": "?", "host": "?", "started": "?"}
    return holder if isinstance(holder, dict) else {}
