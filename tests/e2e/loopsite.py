"""A loopback site for the requisite tests: pages, images, stylesheets and fonts by path, and
the hostile ones (an endless body, a 2 GB Content-Length, a gzip bomb), with a log of every
request and its headers. Each connection has its own thread (one endless body blocks nothing);
streams stop when the client leaves or after a bounded time."""

from __future__ import annotations

import contextlib
import gzip
import re
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

#: A route: (status, headers, body) or a callable that writes the answer itself.
Answer = tuple[int, dict[str, str], bytes]
Route = Answer | Callable[[BaseHTTPRequestHandler], None]

#: Seconds a streamed body goes on at most (the client is expected to stop long before).
STREAM_FOR = 60.0


def png(width: int, height: int, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A real PNG of one colour (what a browser draws: naturalWidth is `width`)."""
    raw = b"".join(b"\x00" + bytes(color) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def pixel_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A small PNG whose header declares width × height pixels (a decoder would inflate it to
    tens of gigabytes)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    ihdr = b"IHDR" + header
    idat = b"IDAT" + zlib.compress(b"\x00" * 100_000, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(header))
        + ihdr
        + struct.pack(">I", zlib.crc32(ihdr))
        + struct.pack(">I", len(idat) - 4)
        + idat
        + struct.pack(">I", zlib.crc32(idat))
    )


def gzip_bomb(inflated: int = 256 * 1024 * 1024) -> bytes:
    """Gzip of `inflated` zero bytes (about a thousandth of that)."""
    out = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\x00" * (1 << 20)
    data = [out.compress(block) for _ in range(inflated >> 20)]
    return b"".join(data) + out.flush()


def endless(content_type: str) -> Callable[[BaseHTTPRequestHandler], None]:
    """No Content-Length, bytes streamed until the client leaves (or STREAM_FOR passes)."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Connection", "close")
        handler.end_headers()
        chunk = b"\x89PNG\r\n\x1a\n" + b"\x00" * 65536
        until = time.monotonic() + STREAM_FOR
        try:
            while time.monotonic() < until:
                handler.wfile.write(chunk)
        except OSError:
            pass

    return answer


def huge(content_type: str, length: int = 2 * 1024**3) -> Callable[[BaseHTTPRequestHandler], None]:
    """A Content-Length of `length` (2 GB), then bytes until the client leaves."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(length))
        handler.end_headers()
        until = time.monotonic() + STREAM_FOR
        try:
            while time.monotonic() < until:
                handler.wfile.write(b"/* */" * 13107)
        except OSError:
            pass

    return answer


def gzipped(body: bytes, content_type: str) -> Answer:
    """A body served with Content-Encoding: gzip."""
    return 200, {"Content-Type": content_type, "Content-Encoding": "gzip"}, gzip.compress(body)


@dataclass
class Hit:
    """One request the site answered."""

    path: str
    headers: dict[str, str]
    at: float


@dataclass
class LoopSite:
    """The site: `routes` by path (query strings ignored), served on 127.0.0.1."""

    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    referer_required: dict[str, str] = field(default_factory=dict)  # path -> Referer prefix

    def __post_init__(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                site.hits.append(Hit(path, dict(self.headers.items()), time.time()))
                route = site.routes.get(path)
                needed = site.referer_required.get(path)
                if needed is not None and not (self.headers.get("Referer") or "").startswith(
                    needed
                ):
                    route = (403, {"Content-Type": "text/plain"}, b"hotlinking refused")
                if route is None:
                    route = (404, {"Content-Type": "text/plain"}, b"not found")
                if callable(route):
                    self.close_connection = True
                    route(self)
                    return
                status, headers, body = route
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LoopSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes | str, content_type: str, **headers: str) -> str:
        """Serve `body` at `path`; its URL."""
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = (200, {"Content-Type": content_type, **headers}, data)
        return self.url(path)

    def count(self, prefix: str) -> int:
        """Requests whose path starts with `prefix`."""
        return sum(1 for hit in self.hits if hit.path.startswith(prefix))


def page(title: str, body_html: str, head: str = "") -> str:
    """An article page: navigation, the article (title, paragraphs, `body_html`), a footer."""
    paragraphs = "".join(
        f"<p>{title}的第{i}段：研究团队在多个公开基准上进行了系统的实验，并与现有方法做了细致的"
        f"对比分析，结果显示新方法在第{i}项指标上明显领先，这一发现引起了业内的广泛关注。</p>"
        for i in range(1, 7)
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="2026-02-05T10:00:00+08:00">
{head}</head><body>
<nav><a href="/">首页</a><img src="/nav-logo.png" alt=""></nav>
<article><h1 id="title">{title}</h1>
{paragraphs}
{body_html}
</article>
<footer>版权所有 © 2026 测试新闻网</footer>
</body></html>"""


def static_file(path: Path, content_type: str) -> Callable[[BaseHTTPRequestHandler], None]:
    """A file served whole or by byte ranges (ReplayWeb.page reads a WACZ by ranges)."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        size = path.stat().st_size
        start, end = 0, size - 1
        wanted = re.match(r"bytes=(\d*)-(\d*)$", handler.headers.get("Range") or "")
        if wanted and (wanted.group(1) or wanted.group(2)):
            if wanted.group(1):
                start = int(wanted.group(1))
                end = min(int(wanted.group(2) or end), end)
            else:  # the last n bytes
                start = max(0, size - int(wanted.group(2)))
            handler.send_response(206)
            handler.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            handler.send_response(200)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Accept-Ranges", "bytes")
        handler.send_header("Content-Length", str(end - start + 1))
        handler.end_headers()
        with path.open("rb") as fh:
            fh.seek(start)
            with contextlib.suppress(OSError):
                handler.wfile.write(fh.read(end - start + 1))

    return answer
