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
  page starts a new one). The clock of a page starts when its child starts reading it, not when
  it was queued behind other pages in the pipe;
- a child may use at most `memory` MB of address space (RLIMIT_AS): a page that needs more ends
  `failed` with that reason, and the child is replaced. A child is also replaced, between
  pages, once it holds more than `recycle_mb` MB or has read `max_pages` pages.

A child exits when its stdin closes, and is killed with its parent (PR_SET_PDEATHSIG), so a
crawl killed with SIGKILL leaves no child behind, even one busy on a long page.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import pickle
import resource
import signal
import struct
import sys
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from crawler.items import Extracted, Status

logger = logging.getLogger(__name__)

_HEADER = struct.Struct(">I")

#: How a worker is started.
WORKER_COMMAND = (sys.executable, "-m", "crawler.extractpool")

#: Seconds a closing pool waits for a child to exit after its stdin is closed.
CLOSE_WAIT = 5.0
#: Environment variables that give a child its address-space limit in MB, and its parent.
MEMORY_ENV = "SOURCES_EXTRACT_MEMORY_MB"
PARENT_ENV = "SOURCES_EXTRACT_PARENT"
#: The start of the reason `extract` gives when a page ran out of memory.
_OUT_OF_MEMORY = "extractor error: MemoryError"


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


@dataclass
class _Limits:
    """What a child may use: address space (MB, 0: no limit), and when it is replaced."""

    memory_mb: int = 0
    recycle_mb: int = 0
    max_pages: int = 0


@dataclass
class _Job:
    """One page sent to a child: its reply, and when the child started reading it."""

    reply: asyncio.Future[bytes]
    started: asyncio.Future[float] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class _Worker:
    """One child process and the pipes to it; started on first use, again after a failure.

    Requests are pipelined: the next page is already in the pipe while the child reads the
    current one, so the child does not wait for the crawl's busy event loop between pages.
    Replies come back in order; a reader task hands each to the job at the head, and the job
    behind it becomes the one the child is reading: its clock starts then.
    """

    def __init__(self, number: int, command: Sequence[str], limits: _Limits | None = None):
        self.number = number
        self.command = command
        self.limits = limits or _Limits()
        self.process: asyncio.subprocess.Process | None = None
        self.reader: asyncio.Task[None] | None = None
        self.waiting: deque[_Job] = deque()
        self.pages = 0  # pages read, in all
        self.served = 0  # pages read by the current child
        self.retire = False  # replace the child once it has finished the pages it holds
        self.recycled = 0
        self._idle: asyncio.Event | None = None
        self._starting: asyncio.Lock | None = None

    async def _start(self) -> asyncio.subprocess.Process:
        if self._starting is None:  # made in the running loop, on first use
            self._starting = asyncio.Lock()
            self._idle = asyncio.Event()
            self._idle.set()
        async with self._starting:  # two pages at once must not start two children
            if self.retire and self.process is not None and self.process.returncode is None:
                assert self._idle is not None
                await self._idle.wait()  # the pages it holds are read first
                await self.close()
                self.recycled += 1
            self.retire = False
            if self.process is None or self.process.returncode is not None:
                self.process = await asyncio.create_subprocess_exec(
                    *self.command,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    env=_child_env(self.limits.memory_mb),
                )
                self.served = 0
                self.reader = asyncio.ensure_future(self._read_replies(self.process))
                logger.debug("extraction worker %d started (pid %d)", self.number, self.process.pid)
            return self.process

    def _next_started(self) -> None:
        """The job at the head is the one the child reads now: start its clock."""
        if self.waiting:
            head = self.waiting[0]
            if not head.started.done():
                head.started.set_result(asyncio.get_running_loop().time())
        elif self._idle is not None:
            self._idle.set()

    async def _read_replies(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        try:
            while True:
                (size,) = _HEADER.unpack(await process.stdout.readexactly(_HEADER.size))
                reply = await process.stdout.readexactly(size)
                if self.waiting:
                    head = self.waiting.popleft()
                    if not head.reply.done():
                        head.reply.set_result(reply)
                self._next_started()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        died = WorkerDied("extraction worker died")
        if self.process is process:  # died on its own: every page it held is lost
            self.process = None
            if process.stdin is not None:
                process.stdin.close()
            with contextlib.suppress(TimeoutError):
                code = await asyncio.wait_for(process.wait(), 1.0)
                if code < 0:
                    died = WorkerDied(f"extraction worker died (signal {-code})")
        while self.waiting:
            head = self.waiting.popleft()
            if not head.reply.done():
                head.reply.set_exception(died)
        if self._idle is not None:
            self._idle.set()

    async def call(self, request: bytes, timeout: float | None) -> Extracted:
        process = await self._start()
        assert process.stdin is not None and self._idle is not None
        loop = asyncio.get_running_loop()
        job = _Job(loop.create_future())
        job.reply.add_done_callback(_retrieved)  # a failure nobody waits for any more is no error
        self.waiting.append(job)
        self._idle.clear()
        if len(self.waiting) == 1:
            job.started.set_result(loop.time())
        process.stdin.write(_HEADER.pack(len(request)))
        process.stdin.write(request)  # not joined to the header: no copy of a large page
        sending = asyncio.ensure_future(process.stdin.drain())
        sending.add_done_callback(_retrieved)
        try:
            data = await self._wait(job, sending, timeout)
        except TimeoutError as exc:
            job.reply.cancel()  # nobody waits for it any more
            await self.kill()  # the pages queued behind this one get WorkerDied: read again
            raise WorkerFailed(f"extraction took longer than {timeout:g} s") from exc
        except (ConnectionError, BrokenPipeError) as exc:
            await self.kill()
            raise WorkerDied("extraction worker died") from exc
        except asyncio.CancelledError:  # the crawl stopped mid-page: the pipe is out of step
            job.reply.cancel()
            self._kill_now()
            raise
        finally:
            if not sending.done():
                sending.cancel()
        self.pages += 1
        self.served += 1
        result, rss_mb = pickle.loads(data)
        if not isinstance(result, Extracted):
            await self.kill()
            raise WorkerFailed(f"extraction worker answered {type(result).__name__}")
        self._maybe_retire(result, rss_mb)
        return result

    async def _wait(self, job: _Job, sending: asyncio.Future[None], timeout: float | None) -> bytes:
        """The reply to `job`; TimeoutError once the child has read it for `timeout` s."""
        loop = asyncio.get_running_loop()
        while not job.reply.done():
            waits: set[asyncio.Future[Any]] = {job.reply}
            if not sending.done():
                waits.add(sending)
            deadline = None
            if job.started.done() and timeout is not None:
                deadline = job.started.result() + timeout
            elif not job.started.done():
                waits.add(job.started)
            left = None if deadline is None else max(0.0, deadline - loop.time())
            done, _ = await asyncio.wait(waits, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            if sending in done:
                sending.result()  # a broken pipe raises here
            if not done and deadline is not None:
                raise TimeoutError
        return job.reply.result()

    def _maybe_retire(self, result: Extracted, rss_mb: float) -> None:
        """Replace the child between pages once it holds too much or has read enough."""
        limits = self.limits
        why = None
        if (result.reason or "").startswith(_OUT_OF_MEMORY):
            why = "it ran out of memory"
        elif limits.recycle_mb and rss_mb > limits.recycle_mb:
            why = f"it holds {rss_mb:.0f} MB (EXTRACT_WORKER_RECYCLE_MB={limits.recycle_mb})"
        elif limits.max_pages and self.served >= limits.max_pages:
            why = f"it has read {self.served} pages (EXTRACT_WORKER_MAX_PAGES)"
        if why and not self.retire:
            self.retire = True
            logger.info("extraction worker %d is replaced: %s", self.number, why)

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


#: Bytes of pages a pool holds at once (sent or being sent) per child, beyond its first page:
#: a few large pages wait their turn in the crawl as their small response, not as copies.
QUEUED_BYTES = 12_000_000


class ExtractionPool:
    """`size` extraction children, each holding up to `depth` pages (one read, the rest queued
    in its pipe) and `QUEUED_BYTES` of them; `extract` waits while all of them are full."""

    def __init__(
        self,
        size: int,
        timeout: float | None = None,
        command: Sequence[str] = WORKER_COMMAND,
        depth: int = 4,
        *,
        memory_mb: int = 0,
        recycle_mb: int = 0,
        max_pages: int = 0,
    ):
        if size < 1:
            raise ValueError(f"an extraction pool needs at least one worker, not {size}")
        self.size = size
        self.timeout = timeout or None
        self.memory_mb = memory_mb
        limits = _Limits(memory_mb, recycle_mb, max_pages)
        self._workers = [_Worker(n, command, limits) for n in range(size)]
        self._depth = depth
        self._slots: asyncio.Semaphore | None = None
        self._bytes: asyncio.Condition | None = None
        self._held = 0  # bytes of the pages admitted and not answered yet

    def _free(self) -> asyncio.Semaphore:
        if self._slots is None:  # made in the running loop, on first use
            self._slots = asyncio.Semaphore(self.size * self._depth)
            self._bytes = asyncio.Condition()
        return self._slots

    @contextlib.asynccontextmanager
    async def _room(self, size: int) -> AsyncIterator[None]:
        """Wait until `size` more bytes of pages fit (a page always fits when none is held)."""
        assert self._bytes is not None
        budget = QUEUED_BYTES * self.size
        async with self._bytes:
            await self._bytes.wait_for(lambda: not self._held or self._held + size <= budget)
            self._held += size
        try:
            yield
        finally:
            async with self._bytes:
                self._held -= size
                self._bytes.notify_all()

    def _least_busy(self) -> _Worker:
        return min(self._workers, key=lambda worker: len(worker.waiting))

    async def extract(self, url: str, body: bytes, content_type: str | None) -> Extracted:
        """What `crawler.extractors.extract` says of the page, read in a child process."""
        async with self._free(), self._room(len(body)):
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

    @property
    def recycled(self) -> int:
        """Children replaced between pages (memory held, pages read, out of memory)."""
        return sum(worker.recycled for worker in self._workers)

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


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark a future's exception as seen (its caller has given up on it, or handles it)."""
    if not future.cancelled():
        future.exception()


def _children_cpu() -> float:
    """CPU seconds of this process's children that have exited and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _child_env(memory_mb: int = 0) -> dict[str, str]:
    """The environment with this project's root (a folder, or an egg) first on PYTHONPATH,
    and the child's memory limit."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    env[MEMORY_ENV] = str(int(memory_mb))
    env[PARENT_ENV] = str(os.getpid())
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


def _rss_mb() -> float:
    """This process's resident memory now, in MB (its peak where /proc is not there)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def serve(stdin: BinaryIO, stdout: BinaryIO, memory_mb: int = 0) -> None:
    """Answer extraction requests until stdin closes: (Extracted, RSS in MB) per page."""
    from crawler.extractors import extract  # here only: the crawl process never loads it

    while (frame := _read_frame(stdin)) is not None:
        url, body, content_type = pickle.loads(frame)
        del frame
        result = extract(url, body, content_type)
        if memory_mb and (result.reason or "").startswith(_OUT_OF_MEMORY):
            result.reason = (
                f"{_OUT_OF_MEMORY}: the page needs more than EXTRACT_WORKER_MEMORY ({memory_mb} MB)"
            )
        del body
        reply = pickle.dumps((result, _rss_mb()), protocol=pickle.HIGHEST_PROTOCOL)
        stdout.write(_HEADER.pack(len(reply)) + reply)
        stdout.flush()


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (a no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def _limit_memory(memory_mb: int) -> None:
    """Cap this process's address space at `memory_mb` MB (0: no cap)."""
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> None:
    _die_with_parent()
    if os.environ.get(PARENT_ENV, str(os.getppid())) != str(os.getppid()):
        return  # the parent died before the line above: nobody reads the replies
    # Ctrl-C reaches the whole process group: the crawl decides when its children stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.ERROR, format="extraction worker: %(name)s: %(message)s")
    # Replies go to a private copy of stdout; anything a library prints lands on stderr.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    memory_mb = int(os.environ.get(MEMORY_ENV) or 0)
    from crawler.extractors import extract  # noqa: F401 - loaded before the cap, not under it

    _limit_memory(memory_mb)
    serve(sys.stdin.buffer, replies, memory_mb)


if __name__ == "__main__":
    main()
