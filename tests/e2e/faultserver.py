"""A loopback HTTP server that misbehaves on purpose, for the fault-injection tests.

pytest-httpserver answers every request promptly and whole; the faults here need the raw
socket: never answering, resetting the connection, a body shorter than its Content-Length, a
gzip bomb, a 2 GB or endless body, a slow drip. Each connection is served by its own thread
and closed after one response (``Connection: close``), so one hanging route blocks nothing else.

Routes (the last path segment is free, so that many links can share one behaviour):

=====================================  ===========================================================
``/robots.txt``                        allow all
``/article/<slug>``                    a UTF-8 article page
``/text/<slug>``                       a one-line text/plain page (quick to extract)
``/slow/<seconds>/<slug>``             the article after a pause
``/drip/<slug>``                       headers, then one byte every 0.2 s, never done
``/never/<slug>``                      reads the request, never answers
``/reset/<slug>``                      resets the connection (RST) without answering
``/reset-mid/<slug>``                  headers and part of the body, then a reset
``/truncated/<slug>``                  Content-Length 60000, 6000 bytes, then closes
``/gzipbomb/<slug>``                   Content-Encoding gzip: 300 KB inflating to 256 MiB
``/huge/<slug>``                       Content-Length 2 GiB, zeros streamed until the client leaves
``/endless/<slug>``                    no Content-Length, HTML streamed until the client leaves
``/redirect/self/<slug>``              302 to itself
``/redirect/pingpong/<a|b>/<slug>``    302 from a to b and back
``/redirect/chain/<n>/<slug>``         302 to n + 1, endlessly
``/redirect/to/<n>/<slug>``            n hops, then the article
``/ctype/<kind>/<slug>``               none, octet (HTML as octet-stream), pdf-as-html, xhtml
``/pdf/<slug>``, ``/png/<slug>``       binaries with their type
``/enc/<variant>/<slug>``              see `ENCODED`: GBK, GB18030, Big5, invalid UTF-8 ...
``/status/<code>/<slug>``              that status, every time
``/retry-after/<form>/<n>/<slug>``     n times 429 with Retry-After (``<seconds>`` or ``date``),
                                       then the article
``/busy-after/<form>/<n>/<slug>``      the same with 503
``/unavailable/<n>/<slug>``            503 without Retry-After n times, then 200
``/switch/<slug>``                     what ``modes[slug]`` says: ok, 500, reset, never, 404
``/links/<n>/<slug>``                  an article page holding n links
``/flat/<kb>/<slug>``                  kb KB of flat ``<p>`` paragraphs
``/nested/<kb>/<slug>``                kb KB of ``<div>`` tags nested in one another
``/inflate/<mb>/<slug>``               Content-Encoding gzip: a few KB inflating to mb MiB of HTML
``/gzip2/<mb>/<slug>``                 Content-Encoding ``gzip, gzip``: a bomb inside a bomb
``/location/<where>/<slug>``           302 to `LOCATIONS[where]` (file:, gopher:, none ...)
``/raw-status/<line>/<slug>``          the status line ``HTTP/1.1 <line>`` as given (``%20``: space)
``/retry-value/<value>/<slug>``        503 with ``Retry-After: <value>`` (percent-decoded), always
=====================================  ===========================================================
"""

from __future__ import annotations

import gzip
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass
from email.utils import formatdate
from functools import cache
from typing import Any
from urllib.parse import unquote

from tests.conftest import article_html, sentences

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
PNG = (
    b"\x89PNG\r\n\x1a\n"
    + struct.pack(">I", 13)
    + b"IHDR"
    + struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    + b"\x00\x00\x00\x00"
    + b"\x00\x00\x00\x00IEND\xaeB`\x82"
)

SIMPLIFIED = "大模型推理加速"
TRADITIONAL = "大型語言模型的研究進展"
#: A character outside GBK (CJK extension B) that GB18030 encodes in four bytes.
GB18030_ONLY = "𠮷"


def _traditional(n: int = 6) -> list[str]:
    return [
        f"第{i}段：研究團隊在多個公開基準上進行了系統的實驗，並與現有方法做了細緻的對比分析，"
        f"結果顯示新方法在第{i}項指標上明顯領先，相關程式碼已經開源。"
        for i in range(1, n + 1)
    ]


def _page(title: str, body: list[str], charset: str | None) -> str:
    """An article page in characters GBK and Big5 both have (a traditional title for Big5)."""
    meta = f'<meta charset="{charset}">' if charset else ""
    paragraphs = "\n".join(f"<p>{p}</p>" for p in body)
    return f"""<!DOCTYPE html>
<html lang="zh"><head>{meta}<title>{title}</title>
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="2026-02-05T10:00:00+08:00">
</head><body>
<nav><a href="/">Home</a> <a href="/ai">AI</a></nav>
<article><h1>{title}</h1>
{paragraphs}
</article>
<footer>(C) 2026</footer>
</body></html>"""


def _encoded() -> dict[str, tuple[bytes, str | None, str]]:
    """variant -> (body, Content-Type, a phrase the decoded text must contain)."""
    gbk_text = sentences(SIMPLIFIED)
    big5_text = _traditional()
    gb18030_text = [f"{GB18030_ONLY}字在第{i}段出现，" + s for i, s in enumerate(gbk_text, 1)]
    utf8 = _page("无效字节页面", sentences("无效字节"), "utf-8").encode("utf-8")
    cut = utf8.index("无效字节的第2段".encode())
    return {
        "gbk-header": (
            _page(SIMPLIFIED, gbk_text, None).encode("gbk"),
            "text/html; charset=GBK",
            "研究团队在多个公开基准上",
        ),
        "gbk-meta": (
            _page(SIMPLIFIED, gbk_text, "gbk").encode("gbk"),
            "text/html",
            "研究团队在多个公开基准上",
        ),
        "gbk-sniff": (
            _page(SIMPLIFIED, gbk_text, None).encode("gbk"),
            "text/html",
            "研究团队在多个公开基准上",
        ),
        "gbk-as-utf8": (
            _page(SIMPLIFIED, gbk_text, None).encode("gbk"),
            "text/html; charset=utf-8",
            "研究团队在多个公开基准上",
        ),
        "gb18030": (
            _page(SIMPLIFIED, gb18030_text, "gb18030").encode("gb18030"),
            "text/html; charset=gb18030",
            f"{GB18030_ONLY}字在第1段出现",
        ),
        "big5-header": (
            _page(TRADITIONAL, big5_text, None).encode("big5"),
            "text/html; charset=big5",
            "研究團隊在多個公開基準上",
        ),
        "big5-meta": (
            _page(TRADITIONAL, big5_text, "big5").encode("big5"),
            "text/html",
            "研究團隊在多個公開基準上",
        ),
        # a valid UTF-8 page with a few stray bytes in one paragraph
        "invalid-utf8": (
            utf8[:cut] + b"\xff\xfe\xc3(" + utf8[cut:],
            "text/html; charset=utf-8",
            "无效字节的第3段",
        ),
    }


ENCODED = _encoded()


@cache
def gzip_bomb(inflated: int = 256 * 1024 * 1024) -> bytes:
    """A gzip member of `inflated` zero bytes (about 1/1000 of that compressed)."""
    out = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1024 * 1024)
    parts = [out.compress(chunk) for _ in range(inflated // len(chunk))]
    return b"".join([*parts, out.flush()])


#: Where `/location/<where>/` redirects to (None: a 302 without a Location header).
LOCATIONS: dict[str, str | None] = {
    "file": "file:///etc/passwd",
    "gopher": "gopher://127.0.0.1:70/1",
    "ftp": "ftp://127.0.0.1/pub/x",
    "data": "data:text/html,<p>x</p>",
    "javascript": "javascript:alert(1)",
    "none": None,
    "empty": "",
}


@cache
def inflating(mb: int, layers: int = 1) -> bytes:
    """HTML paragraphs of `mb` MiB, gzip-compressed `layers` times (a few KB per layer)."""
    chunk = b"<p>" + "膨胀".encode() * 40 + b"</p>\n"
    html = b"<html><body>" + chunk * (mb * 1024 * 1024 // len(chunk)) + b"</body></html>"
    for _ in range(layers):
        out = zlib.compressobj(9, zlib.DEFLATED, 31)
        html = out.compress(html) + out.flush()
    return html


@dataclass
class Hit:
    """One request the server read."""

    path: str
    at: float
    headers: dict[str, str]


class FaultServer:
    """`with FaultServer() as server: server.url("/never/x")`; `server.hits` logs requests."""

    def __init__(self, host: str = "127.0.0.1"):
        self.sock = socket.create_server((host, 0))
        self.sock.settimeout(0.2)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.hits: list[Hit] = []
        self.connections = 0
        self.modes: dict[str, str] = {}
        self.counts: Counter[str] = Counter()
        self.title = "故障测试"
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="faultserver")

    # -- lifecycle -----------------------------------------------------------------------
    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def paths(self, prefix: str = "/") -> list[str]:
        """Paths requested (robots.txt left out), in order."""
        return [h.path for h in self.hits if h.path.startswith(prefix) and h.path != "/robots.txt"]

    def times(self, path: str) -> list[float]:
        return [h.at for h in self.hits if h.path == path]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    # -- one connection ------------------------------------------------------------------
    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            path = head[0].split(" ")[1]
            headers = {
                k.strip().lower(): v.strip()
                for k, _, v in (line.partition(":") for line in head[1:])
            }
            with self._lock:
                self.hits.append(Hit(path, time.monotonic(), headers))
                self.counts[path] += 1
                count = self.counts[path]
            self._route(conn, path, count)
        except OSError:
            pass  # the client went away: that is what most faults provoke
        finally:
            conn.close()

    def _route(self, conn: socket.socket, path: str, count: int) -> None:
        parts = path.split("?")[0].strip("/").split("/")
        kind, args = parts[0], parts[1:]
        if kind == "robots.txt":
            return self._send(conn, 200, b"User-agent: *\nAllow: /\n", "text/plain")
        if kind == "switch":
            mode = self.modes.get(args[-1], "ok")
            kind, args = (
                ("status", [mode, *args])
                if mode.isdigit()
                else ("article" if mode == "ok" else mode, args)
            )
        handler = getattr(self, "_r_" + kind.replace("-", "_"), None)
        if handler is None:
            return self._send(conn, 404, b"no such route", "text/plain")
        return handler(conn, args, count, path)

    def _send(
        self,
        conn: socket.socket,
        status: int,
        body: bytes,
        ctype: str | None,
        headers: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        lines = [
            f"HTTP/1.1 {status} X",
            "Connection: close",
            f"Content-Length: {len(body) if length is None else length}",
        ]
        if ctype:
            lines.append(f"Content-Type: {ctype}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    def _article(self, path: str) -> bytes:
        slug = path.rstrip("/").rsplit("/", 1)[-1]
        return article_html(f"{self.title}{slug}", sentences(f"{self.title}{slug}")).encode()

    def _stream(self, conn: socket.socket, chunk: bytes, pause: float = 0.0) -> None:
        """Send `chunk` over and over until the client leaves or the server stops."""
        while not self._stop.is_set():
            conn.sendall(chunk)
            if pause:
                time.sleep(pause)

    def _reset(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()

    # -- routes --------------------------------------------------------------------------
    def _r_article(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        self._send(conn, 200, self._article(path), "text/html; charset=utf-8")

    def _r_text(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        slug = path.rstrip("/").rsplit("/", 1)[-1]
        body = f"第{slug}号短讯：一段纯文本。\n".encode()
        self._send(conn, 200, body, "text/plain; charset=utf-8")

    def _r_slow(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        self._stop.wait(float(args[0]))
        self._r_article(conn, args, count, path)

    def _r_drip(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n"
            b"Connection: close\r\n\r\n<html>"
        )
        self._stream(conn, b" ", pause=0.2)

    def _r_never(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        conn.settimeout(0.2)
        while not self._stop.is_set():
            try:
                if not conn.recv(1024):
                    return  # the client gave up
            except TimeoutError:
                continue

    def _r_reset(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        self._reset(conn)

    def _r_reset_mid(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        body = self._article(path)
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body[: len(body) // 2]
        )
        time.sleep(0.05)
        self._reset(conn)

    def _r_truncated(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        body = (self._article(path) * 10)[:6000]
        self._send(conn, 200, body, "text/html; charset=utf-8", length=60000)

    def _r_gzipbomb(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        self._send(conn, 200, gzip_bomb(), "text/html", {"Content-Encoding": "gzip"})

    def _r_gzip(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        self._send(
            conn,
            200,
            gzip.compress(self._article(path)),
            "text/html; charset=utf-8",
            {"Content-Encoding": "gzip"},
        )

    def _r_huge(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: 2147483648\r\nConnection: close\r\n\r\n"
        )
        self._stream(conn, bytes(65536))

    def _r_endless(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            b"Connection: close\r\n\r\n<html><body>"
        )
        self._stream(conn, b"<p>" + "没完没了".encode() * 4000 + b"</p>\n")

    def _r_redirect(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        how, slug = args[0], args[-1]
        if how == "self":
            target = path
        elif how == "pingpong":
            target = f"/redirect/pingpong/{'b' if args[1] == 'a' else 'a'}/{slug}"
        elif how == "chain":
            target = f"/redirect/chain/{int(args[1]) + 1}/{slug}"
        else:  # "to": n hops then the article
            n = int(args[1])
            target = f"/redirect/to/{n - 1}/{slug}" if n > 1 else f"/article/{slug}"
        self._send(conn, 302, b"", None, {"Location": self.url(target)})

    def _r_refresh(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        """An HTML page refreshing to itself at once (a meta-refresh loop)."""
        body = f'<html><head><meta http-equiv="refresh" content="0; url={path}"></head></html>'
        self._send(conn, 200, body.encode(), "text/html")

    def _r_ctype(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        kind = args[0]
        if kind == "pdf-as-html":
            return self._send(conn, 200, PDF, "text/html")
        ctype = {
            "none": None,
            "octet": "application/octet-stream",
            "xhtml": "application/xhtml+xml",
        }[kind]
        return self._send(conn, 200, self._article(path), ctype)

    def _r_pdf(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        self._send(conn, 200, PDF, "application/pdf")

    def _r_png(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        self._send(conn, 200, PNG, "image/png")

    def _r_enc(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        body, ctype, _ = ENCODED[args[0]]
        self._send(conn, 200, body, ctype)

    def _r_status(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        self._send(conn, int(args[0]), b"<html><body>status page</body></html>", "text/html")

    def _r_links(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        links = "".join(f'<a href="/l/{i}">链接{i}</a> ' for i in range(int(args[0])))
        body = f"<html><body><article><h1>链接页</h1><p>{links}</p></article></body></html>"
        self._send(conn, 200, body.encode(), "text/html; charset=utf-8")

    def _r_flat(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        paragraph = "<p>平铺的段落</p>".encode()
        body = paragraph * (int(args[0]) * 1024 // len(paragraph))
        self._send(conn, 200, b"<html><body>" + body + b"</body></html>", "text/html")

    def _r_nested(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        body = b"<div>" * (int(args[0]) * 1024 // 5)
        self._send(conn, 200, b"<html><body>" + body + b"x</body></html>", "text/html")

    def _r_inflate(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        body = inflating(int(args[0]))
        self._send(conn, 200, body, "text/html; charset=utf-8", {"Content-Encoding": "gzip"})

    def _r_gzip2(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        body = inflating(int(args[0]), layers=2)
        self._send(conn, 200, body, "text/html", {"Content-Encoding": "gzip, gzip"})

    def _r_location(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        where = LOCATIONS[args[0]]
        self._send(conn, 302, b"", None, {} if where is None else {"Location": where})

    def _r_raw_status(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        line = unquote(args[0])
        body = b"<html><body>odd status</body></html>"
        conn.sendall(
            f"HTTP/1.1 {line}\r\nConnection: close\r\nContent-Type: text/html\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode("latin-1")
            + body
        )

    def _r_retry_value(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        value = unquote(args[0], encoding="latin-1")  # any byte, as a hostile server sends it
        self._send(conn, 503, b"busy", "text/plain", {"Retry-After": value})

    def _r_retry_after(
        self, conn: socket.socket, args: list[str], count: int, path: str, code: int = 429
    ) -> None:
        form, times = args[0], int(args[1])
        if count > times:
            return self._r_article(conn, args, count, path)
        # an HTTP-date two seconds ahead (one-second resolution), or delta-seconds
        value = formatdate(time.time() + 2, usegmt=True) if form == "date" else form
        self._send(conn, code, b"slow down", "text/plain", {"Retry-After": value})

    def _r_busy_after(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        self._r_retry_after(conn, args, count, path, code=503)

    def _r_unavailable(self, conn: socket.socket, args: list[str], count: int, path: str) -> None:
        if count > int(args[0]):
            return self._r_article(conn, args, count, path)
        self._send(conn, 503, b"busy", "text/plain")
