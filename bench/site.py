"""The loopback site: an asyncio HTTP/1.1 server of pre-generated files, run in its own process.

    python -m bench.site WWW_DIR     # prints "listening http://127.0.0.1:PORT http://127.0.0.1:PORT2"

Files are read into memory at start; every path is served as UTF-8 HTML with keep-alive, on two
ports: the second stands for mp.weixin.qq.com (the pages in WeChat chrome are cited there, and
ours maps it to its WeChat extractor with EXTRACT_AS, as it reads the real site).
`GET /__bench/stats` answers the number of other requests served so far.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import ClassVar

from bench.sitegen import Page, Site

STATS_PATH = "/__bench/stats"
#: The site the second port stands for.
WECHAT_HOST = "mp.weixin.qq.com"
_HEAD = (
    "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {length}\r\n"
    "Connection: keep-alive\r\nServer: bench-site\r\n\r\n"
)


#: Content types by file extension (everything else is an HTML page).
_TYPES = {"jpg": "image/jpeg", "png": "image/png", "css": "text/css"}


def load(www: Path) -> dict[str, bytes]:
    """URL path -> body, for every file under `www`."""
    return {
        "/" + p.relative_to(www).as_posix(): p.read_bytes() for p in www.rglob("*") if p.is_file()
    }


class _Http(asyncio.Protocol):
    """One connection: pipelined GET/HEAD requests, no request bodies."""

    files: ClassVar[dict[str, bytes]] = {}
    served: ClassVar[int] = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            self._answer(head)

    def _answer(self, head: bytes) -> None:
        method, target, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        path = target.split("?", 1)[0].split("#", 1)[0]
        ctype = _TYPES.get(path.rsplit(".", 1)[-1], "text/html; charset=utf-8")
        body = self.files.get(path)
        status = "200 OK"
        if path == STATS_PATH:
            body, ctype = json.dumps({"served": self.served}).encode(), "application/json"
        else:
            type(self).served += 1
            if body is None:
                body, status, ctype = b"not found", "404 Not Found", "text/plain"
        head_out = _HEAD.format(status=status, ctype=ctype, length=len(body)).encode()
        self.transport.write(head_out if method == "HEAD" else head_out + body)


async def serve(www: Path) -> None:
    """Serve `www` on two loopback ports until killed."""
    _Http.files = load(www)
    loop = asyncio.get_running_loop()
    servers = [await loop.create_server(_Http, "127.0.0.1", 0, backlog=512) for _ in range(2)]
    urls = [f"http://127.0.0.1:{s.sockets[0].getsockname()[1]}" for s in servers]
    sys.stdout.write(f"listening {' '.join(urls)}\n")
    sys.stdout.flush()
    await asyncio.gather(*(s.serve_forever() for s in servers))


class SiteServer:
    """Runs `python -m bench.site` as a child process for the length of a `with` block."""

    def __init__(self, www: Path, repo: Path):
        self.www = www
        self.repo = repo
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.wechat_url = ""  # the stand-in for mp.weixin.qq.com

    def __enter__(self) -> SiteServer:
        env = dict(os.environ, PYTHONPATH=str(self.repo))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.site", str(self.www)],
            cwd=self.repo,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening "):
            self.__exit__(None, None, None)
            raise RuntimeError(f"site server did not start: {line!r}")
        self.base_url, self.wechat_url = line.split(" ")[1:3]
        return self

    def url(self, site: Site, page: Page) -> str:
        """Where the page is cited: WeChat-chrome pages on the WeChat stand-in."""
        return (self.wechat_url if site.wechat(page) else self.base_url) + page.path

    def seen_as(self, site: Site, page: Page) -> str:
        """The URL the page's extractor sees in ours (the stand-in read as the WeChat site)."""
        return f"https://{WECHAT_HOST}{page.path}" if site.wechat(page) else self.url(site, page)

    def extract_as(self) -> dict[str, str]:
        """EXTRACT_AS for ours: the WeChat stand-in is read as the WeChat site."""
        return {self.wechat_url.split("://", 1)[1]: WECHAT_HOST}

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def served(self) -> int:
        """Requests the server has answered so far."""
        from urllib.request import urlopen

        with urlopen(self.base_url + STATS_PATH, timeout=10) as response:
            return int(json.load(response)["served"])

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    """Command line: serve a folder until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("www", type=Path)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.www))


if __name__ == "__main__":
    main()
