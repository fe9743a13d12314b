"""Who may write an archive: one crawl, or several crawls of one distributed run.

`crawl.lock` is flock'd: exclusively by a single crawl, shared by each process of a
distributed run (REDIS_URL). Every holder also keeps a record of itself (pid, host, start
time), flock'd by that holder alone: `crawl.lock` for a single crawl, `crawl.lock.d/<host>-<pid>`
for a distributed one. The kernel drops an flock when its process dies, so a record whose lock
can be taken belongs to a crawl that was killed: it is returned as `stale`, and the archive runs
its crash recovery for that holder.

The dead holders are remembered in `recovery.json` before their records are cleared, and
forgotten (`recovered()`) only once their recovery has finished: a crawl killed during the
recovery of another leaves both to the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crawler.archive import atomic

#: The dead holders whose recovery has not finished, beside `crawl.lock`.
RECOVERY = "recovery.json"


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


def _key(holder: dict[str, Any]) -> tuple[str, str, str]:
    return str(holder.get("host")), str(holder.get("pid")), str(holder.get("started"))


class ArchiveLock:
    """The archive's writer lock; `acquire(shared=True)` for a process of a distributed run."""

    def __init__(self, path: Path):
        self.path = path
        self.holders_dir = path.with_name(path.name + ".d")
        self.recovery = path.with_name(RECOVERY)
        self._fd: int | None = None
        self._own: Path | None = None
        self._own_fd: int | None = None
        self.stale: list[dict[str, Any]] = []

    def acquire(self, *, shared: bool = False) -> None:
        """Take the lock or raise ArchiveLocked naming the live holders.

        `stale` then lists the dead holders to recover: those found now, and those of a
        recovery that did not finish. They are in `recovery.json` before their own records
        are cleared or this holder's record replaces them.
        """
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            holders = [h for h in [_read_holder(fd)] if h] + self._live_holders()
            os.close(fd)
            raise ArchiveLocked(_held(self.path, holders)) from None
        self._fd = fd
        dead = self._dead_holders()
        found = [holder for _, holder in dead if holder]
        single = _read_holder(fd)  # a single crawl's record, left in crawl.lock by a kill
        if single:
            found.append(single)
        self.stale = self._remember(found)
        for path, _ in dead:
            path.unlink(missing_ok=True)
        if shared:
            if single:
                self._clear_single()
            self.holders_dir.mkdir(exist_ok=True)
            me = _me()
            self._own = self.holders_dir / f"{me['host']}-{me['pid']}.json"
            self._own_fd = os.open(self._own, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self._own_fd, fcntl.LOCK_EX)
            _write_holder(self._own_fd)
        else:
            _write_holder(fd)

    def _clear_single(self) -> None:
        """Clear a single crawl's record left in crawl.lock (read under a shared lock)."""
        assert self._fd is not None
        try:  # only one shared holder clears it; the others see it cleared
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_SH)

    @contextlib.contextmanager
    def _recovery_file(self) -> Iterator[list[dict[str, Any]]]:
        """The holders in `recovery.json`, under a lock; changes to the list are written."""
        fd = os.open(self.path.with_name(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                record = atomic.read_json(self.recovery) or {}
            except atomic.DamagedRecord:
                record = {}  # cut short by a kill before its rename: an older one is gone too
            holders = [h for h in record.get("holders", []) if isinstance(h, dict)]
            before = list(holders)
            yield holders
            if holders == before:
                return
            if holders:
                atomic.write_json(self.recovery, {"holders": holders})
            else:
                self.recovery.unlink(missing_ok=True)
                atomic.fsync_dir(self.recovery.parent)
        finally:
            os.close(fd)

    def _remember(self, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add `found` to the holders awaiting recovery; return them all."""
        with self._recovery_file() as holders:
            known = {_key(h) for h in holders}
            holders += [h for h in found if _key(h) not in known]
            return list(holders)

    def recovered(self, holders: list[dict[str, Any]]) -> None:
        """Forget dead holders whose recovery has finished."""
        done = {_key(h) for h in holders}
        with self._recovery_file() as pending:
            pending[:] = [h for h in pending if _key(h) not in done]

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

    def _dead_holders(self) -> list[tuple[Path, dict[str, Any]]]:
        """Records of distributed holders that were killed: (path, holder) of each (an empty
        holder for a record that was never written)."""
        dead = []
        for path in self._records():
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:  # another process cleared it meanwhile
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                dead.append((path, _read_holder(fd)))
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
