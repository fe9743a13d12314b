"""Who may write an archive: one crawl, or several crawls of one distributed run.

`crawl.lock` is flock'd: exclusively by a single crawl, shared by each process of a
distributed run (REDIS_URL). Every holder also keeps a record of itself (pid, host, start
time), flock'd by that holder alone: `crawl.lock` for a single crawl, `crawl.lock.d/<host>-<pid>`
for a distributed one. The kernel drops an flock when its process dies, so a record whose lock
can be taken belongs to a crawl that was killed: it is returned as `stale`, and the archive runs
its crash recovery for that holder.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Any


class ArchiveError(RuntimeError):
    """The archive cannot be opened for writing; the message says why and names the path."""


class ArchiveLocked(ArchiveError):
    """Another live crawl holds the archive."""


def _me() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _held(path: Path, holders: list[dict[str, Any]]) -> str:
    names = (
        ", ".join(
            f"pid {h.get('pid', '?')} on {h.get('host', '?')}, started {h.get('started', '?')}"
            for h in holders
        )
        or "holder unknown"
    )
    return f"archive {path.parent} is held by another crawl ({names}); wait for it to finish"


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        data = os.pread(fd, 4096, 0)
        holder = json.loads(data) if data.strip() else {}
    except (OSError, ValueError):
        return {"pid": "?", "host": "?", "started": "?"}
    return holder if isinstance(holder, dict) else {}


def _write_holder(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(_me()).encode(), 0)
    os.fsync(fd)


class ArchiveLock:
    """The archive's writer lock; `acquire(shared=True)` for a process of a distributed run."""

    def __init__(self, path: Path):
        self.path = path
        self.holders_dir = path.with_name(path.name + ".d")
        self._fd: int | None = None
        self._own: Path | None = None
        self._own_fd: int | None = None
        self.stale: list[dict[str, Any]] = []

    def acquire(self, *, shared: bool = False) -> None:
        """Take the lock or raise ArchiveLocked naming the live holders."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            holders = [h for h in [_read_holder(fd)] if h] + self._live_holders()
            os.close(fd)
            raise ArchiveLocked(_held(self.path, holders)) from None
        self._fd = fd
        self.stale = self._dead_holders()
        if shared:
            self.stale += self._take_single_stale()
            self.holders_dir.mkdir(exist_ok=True)
            me = _me()
            self._own = self.holders_dir / f"{me['host']}-{me['pid']}.json"
            self._own_fd = os.open(self._own, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self._own_fd, fcntl.LOCK_EX)
            _write_holder(self._own_fd)
        else:
            previous = _read_holder(fd)
            if previous:
                self.stale.append(previous)
            _write_holder(fd)

    def _take_single_stale(self) -> list[dict[str, Any]]:
        """A single crawl's record left in crawl.lock by a kill (read under a shared lock)."""
        assert self._fd is not None
        holder = _read_holder(self._fd)
        if not holder:
            return []
        try:  # only one shared holder clears it; the others see it cleared
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return []
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_SH)
        return [holder]

    def _records(self) -> list[Path]:
        if not self.holders_dir.is_dir():
            return []
        return sorted(self.holders_dir.glob("*.json"))

    def _live_holders(self) -> list[dict[str, Any]]:
        live = []
        for path in self._records():
            fd = os.open(path, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                live.append(_read_holder(fd))
            finally:
                os.close(fd)
        return live

    def _dead_holders(self) -> list[dict[str, Any]]:
        """Records of distributed holders that were killed; each is removed once read."""
        dead = []
        for path in self._records():
            fd = os.open(path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                holder = _read_holder(fd)
                if holder:
                    dead.append(holder)
                path.unlink(missing_ok=True)
            finally:
                os.close(fd)
        return dead

    def check(self, *, shared: bool = False) -> None:
        """Raise ArchiveLocked if `acquire(shared=...)` would; change nothing."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except BlockingIOError:
            holders = [h for h in [_read_holder(fd)] if h] + self._live_holders()
            raise ArchiveLocked(_held(self.path, holders)) from None
        finally:
            os.close(fd)

    def release(self) -> None:
        """Clear this holder's record (a clean stop) and unlock."""
        if self._own_fd is not None and self._own is not None:
            self._own.unlink(missing_ok=True)
            os.close(self._own_fd)
            self._own_fd = self._own = None
        if self._fd is None:
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.ftruncate(self._fd, 0)
            os.fsync(self._fd)
        except BlockingIOError:
            pass  # other processes of a distributed run still hold it
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None
