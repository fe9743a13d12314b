"""Extraction worker processes, fed over pipes from the crawl's event loop.

    pool = ExtractionPool(size=1, timeout=120)
    extracted = await pool.extract(url, body, content_type)
    await pool.close()

Extraction is CPU-bound and Scrapy runs callbacks and pipelines on one thread, so pages are read
by `python -m crawler.extractpool` child processes while the crawl keeps downloading. Each child
imports the extractors (trafilatura, lxml) once; the crawl process never imports them. A frame
on a pipe is a 4-byte big-endian length and a pickle: (url, body, content_type) in, `Extracted`
out. Compared with a `multiprocessing` pool there is no fork server, resource tracker or feeder
thread to keep in memory, and a child that dies or hangs costs one page, not the pool:

- a child that dies on a page is started again and the page is read once more in the new one;
  if that one dies too, the page ends `failed` ("extraction worker died");
- a page that takes longer than `timeout` seconds ends `failed` and its child is killed (the next
  page starts a new one).

A child exits when its stdin closes, so a crawl killed with SIGKILL leaves no child behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import resource
import signal
import struct
import sys
from collections import deque
from collections.abc import Sequence
from typing import BinaryIO

from crawler.items import Extracted, Status

logger = logging.getLogger(__name__)

_HEADER = struct.Struct(">I")

#: How a worker is started.
WORKER_COMMAND = (sys.executable, "-m", "crawler.extractpool")

#: Seconds a closing pool waits for a child to exit after its stdin is closed.
CLOSE_WAIT = 5.0


class WorkerFailed(Exception):
    """A child hung or answered nonsense on one page."""


class WorkerDied(WorkerFailed):
    """A child exited (or was killed) while it read a page."""


def default_size() -> int:
    """One worker per core beyond the first, which the crawl process itself keeps busy."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


class _Worker:
    """One child process and the pipes to it; started on first use, again after a failure.

    Requests are pipelined: the next page is already in the pipe while the child reads the
    current one, so the child does not wait for the crawl's busy event loop between pages.
    Replies come back in order; a reader task hands each to the request at the head.
    """

    def __init__(self, number: int, command: Sequence[str]):
        self.number = number
        self.command = command
        self.process: asyncio.subprocess.Process | None = None
        self.reader: asyncio.Task[None] | None = None
        self.waiting: deque[asyncio.Future[bytes]] = deque()
        self.pages = 0
        self._starting: asyncio.Lock | None = None

    async def _start(self) -> asyncio.subprocess.Process:
        if self._starting is None:  # made in the running loop, on first use
            self._starting = asyncio.Lock()
        async with self._starting:  # two pages at once must not start two children
            if self.process is None or self.process.returncode is not None:
                self.process = await asyncio.create_subprocess_exec(
                    *self.command,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    env=_child_env(),
                )
                self.reader = asyncio.ensure_future(self._read_replies(self.process))
                logger.debug("extraction worker %d started (pid %d)", self.number, self.process.pid)
            return self.process

    async def _read_replies(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        try:
            while True:
                (size,) = _HEADER.unpack(await process.stdout.readexactly(_HEADER.size))
                reply = await process.stdout.readexactly(size)
                if self.waiting:
                    head = self.waiting.popleft()
                    if not head.done():
                        head.set_result(reply)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        if self.process is process:  # died on its own: every page it held is lost
            self.process = None
            if process.stdin is not None:
                process.stdin.close()
        while self.waiting:
            head = self.waiting.popleft()
            if not head.done():
                head.set_exception(WorkerDied("extraction worker died"))

    async def call(self, request: bytes, timeout: float | None) -> Extracted:
        process = await self._start()
        assert process.stdin is not None
        reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.waiting.append(reply)
        try:
            process.stdin.write(_HEADER.pack(len(request)) + request)
            await process.stdin.drain()
            # the clock runs from the sending: a page's reply waits for the pages ahead of
            # it, and the first of them to overrun is the one that times out first
            data = await asyncio.wait_for(asyncio.shield(reply), timeout)
        except TimeoutError as exc:
            reply.cancel()  # nobody waits for it any more
            await self.kill()  # the pages queued behind this one get WorkerDied: read again
            raise WorkerFailed(f"extraction took longer than {timeout:g} s") from exc
        except (ConnectionError, BrokenPipeError) as exc:
            await self.kill()
            raise WorkerDied("extraction worker died") from exc
        except asyncio.CancelledError:  # the crawl stopped mid-page: the pipe is out of step
            reply.cancel()
            self._kill_now()
            raise
        self.pages += 1
        result = pickle.loads(data)
        if not isinstance(result, Extracted):
            await self.kill()
            raise WorkerFailed(f"extraction worker answered {type(result).__name__}")
        return result

    def _kill_now(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        if process.stdin is not None:
            process.stdin.close()  # else its transport outlives the event loop

    async def kill(self) -> None:
        process = self.process
        self._kill_now()
        if process is not None:
            await process.wait()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)

    async def close(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), CLOSE_WAIT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)


class ExtractionPool:
    """`size` extraction children, each holding up to `depth` pages (one read, the rest queued
    in its pipe); `extract` waits while all of them are full."""

    def __init__(
        self,
        size: int,
        timeout: float | None = None,
        command: Sequence[str] = WORKER_COMMAND,
        depth: int = 4,
    ):
        if size < 1:
            raise ValueError(f"an extraction pool needs at least one worker, not {size}")
        self.size = size
        self.timeout = timeout or None
        self._workers = [_Worker(n, command) for n in range(size)]
        self._depth = depth
        self._slots: asyncio.Semaphore | None = None

    def _free(self) -> asyncio.Semaphore:
        if self._slots is None:  # made in the running loop, on first use
            self._slots = asyncio.Semaphore(self.size * self._depth)
        return self._slots

    def _least_busy(self) -> _Worker:
        return min(self._workers, key=lambda worker: len(worker.waiting))

    async def extract(self, url: str, body: bytes, content_type: str | None) -> Extracted:
        """What `crawler.extractors.extract` says of the page, read in a child process."""
        async with self._free():
            request = pickle.dumps((url, body, content_type), protocol=pickle.HIGHEST_PROTOCOL)
            try:
                try:
                    return await self._least_busy().call(request, self.timeout)
                except WorkerDied:
                    logger.warning("extraction worker died on %s; reading it again", url)
                    return await self._least_busy().call(request, self.timeout)
            except WorkerFailed as exc:
                logger.error("extraction of %s failed: %s", url, exc)
                return _failed(str(exc))

    def pids(self) -> list[int]:
        """Process ids of the running children."""
        return [w.process.pid for w in self._workers if w.process and w.process.returncode is None]

    async def close(self) -> None:
        """Stop every child (they finish the pages they hold, then see their stdin closed)."""
        before = _children_cpu()
        await asyncio.gather(*(worker.close() for worker in self._workers))
        pages = sum(worker.pages for worker in self._workers)
        if pages:
            cpu = _children_cpu() - before
            logger.info(
                "extraction: %d page(s) read in %d worker(s), %.1f CPU ms a page",
                pages,
                self.size,
                cpu * 1000 / pages,
            )


def _children_cpu() -> float:
    """CPU seconds of this process's children that have exited and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _child_env() -> dict[str, str]:
    """The environment with this project's root (a folder, or an egg) first on PYTHONPATH."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def _failed(reason: str) -> Extracted:
    return Extracted(status=Status.FAILED, reason=reason, extractor="pool")


# --------------------------------------------------------------------------------------------
# The child


def _read_frame(stream: BinaryIO) -> bytes | None:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    return data if len(data) == size else None


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Answer extraction requests until stdin closes."""
    from crawler.extractors import extract  # here only: the crawl process never loads it

    while (frame := _read_frame(stdin)) is not None:
        url, body, content_type = pickle.loads(frame)
        reply = pickle.dumps(extract(url, body, content_type), protocol=pickle.HIGHEST_PROTOCOL)
        stdout.write(_HEADER.pack(len(reply)) + reply)
        stdout.flush()


def main() -> None:
    # Ctrl-C reaches the whole process group: the crawl decides when its children stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.ERROR, format="extraction worker: %(name)s: %(message)s")
    # Replies go to a private copy of stdout; anything a library prints lands on stderr.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
