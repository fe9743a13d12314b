"""The web reader: `python -m crawler.archive serve [ARCHIVE_DIR]`, read-only, on loopback.

A Flask app rendering Jinja templates on the server; no JavaScript (the pages' only script is
none), so it works as well from a terminal browser as from Chromium. It reads the archive's
files through `crawler.archive` (records, originals, the check) and lists digests and answers
searches from the derived search index (`crawler.archive.search`), which it refreshes at
start and, at most every `REFRESH_SECONDS`, before a list or a search, so a crawl running
beside it shows up. Nothing in the archive can be written through it: every route is a GET,
every id in a URL is checked against the archive's own id rules before a file is named, and a
WARC pointer leads only to a WARC file of the archive. Lives in crawler/archive/ (not a room of
its own) because it is one more reader of the archive, as `citations` is: the command that
starts it is the archive's, and nothing else needs it.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, abort, render_template, request, url_for
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter

from crawler.archive import layout, originals
from crawler.archive.reader import read_quietly
from crawler.archive.search import MAX_QUERY, SearchError, SearchIndex
from crawler.archive.web import original, views
from crawler.items import Status

logger = logging.getLogger(__name__)

#: Seconds between refreshes of the search index while serving.
REFRESH_SECONDS = 30.0
#: The reader's own pages: no scripts at all, styles and images from itself.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
_DIGEST_ID = re.compile(r"^[\w.-]{1,120}$")


class HexConverter(BaseConverter):
    """A record id in a URL: lowercase hex, as the archive names its records."""

    regex = "[0-9a-f]{16,64}"


def create_app(root: Path, *, pywb: str | None = None, refresh: bool = True) -> Flask:
    """The reader over the archive at `root`."""
    app = Flask(__name__)
    app.url_map.converters["hex"] = HexConverter
    app.config.update(PROPAGATE_EXCEPTIONS=False, TRAP_HTTP_EXCEPTIONS=False, MAX_CONTENT_LENGTH=0)
    root = Path(root)
    index = SearchIndex(root)
    if refresh:
        try:
            index.refresh(wait=True)
        except Exception as exc:  # an index that cannot be built leaves search off, not the reader
            logger.warning("search index: %s", exc)

    def fresh() -> None:
        if refresh:
            try:
                index.refresh(max_age=REFRESH_SECONDS)
            except Exception as exc:  # the last index still answers
                logger.warning("search index: %s", exc)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        code = exc.code or 500
        message = exc.description
        if message == type(exc).description:  # werkzeug's own words: say what was asked
            shown = request.path if len(request.path) <= 200 else request.path[:200] + "…"
            message = {
                404: f"Nothing in this archive is at {shown}.",
                405: f"{request.method} is not allowed: the reader is read-only.",
            }.get(code, message)
        return render_template("error.html", code=code, message=message), code

    @app.errorhandler(Exception)
    def any_error(exc: Exception) -> tuple[str, int]:
        logger.exception("reader: %s", request.path)
        message = "The reader could not show this page: " + (str(exc) or type(exc).__name__)
        return render_template("error.html", code=500, message=message), 500

    @app.context_processor
    def helpers() -> dict[str, Any]:
        return {"badges": views.BADGES, "pywb_url": pywb_url, "max_query": MAX_QUERY}

    def pywb_url(url: str | None, when: str | None) -> str | None:
        if not pywb or not url:
            return None
        stamp = re.sub(r"\D", "", str(when or ""))[:14]
        return f"{pywb.rstrip('/')}/{stamp}/{url}" if stamp else f"{pywb.rstrip('/')}/{url}"

    @app.get("/")
    def home() -> str:
        fresh()
        page = _page_number(request.args.get("page"))
        return render_template("home.html", **views.digest_list(index, page))

    @app.get("/digest/<digest_id>")
    def digest(digest_id: str) -> str:
        if not _DIGEST_ID.match(digest_id):
            abort(404, f"No digest {digest_id!r} in this archive.")
        try:
            layout.digest_path(root, digest_id)
        except ValueError:
            abort(404, f"No digest {digest_id!r} in this archive.")
        data = views.digest_page(root, digest_id)
        if data is None:
            abort(404, f"No digest {digest_id!r} in this archive.")
        return render_template("digest.html", **data)

    @app.get("/article/<hex:article_id>")
    def article(article_id: str) -> str:
        data = views.article_page(root, article_id)
        if data is None:
            abort(404, f"No article {article_id} in this archive.")
        return render_template("article.html", **data)

    @app.get("/link/<hex:link_id>")
    def link(link_id: str) -> str:
        data = views.link_page(root, link_id)
        if data is None:
            abort(404, f"No link {link_id} in this archive.")
        return render_template("link.html", **data)

    @app.get("/original/<hex:article_id>")
    def stored_original(article_id: str) -> Response:
        record = read_quietly(layout.article_path(root, article_id))
        if record is None:
            abort(404, f"No article {article_id} in this archive.")
        banner = render_template("banner.html", article=record)
        try:
            body, kind = original.page(root, record, banner)
        except originals.OriginalError as exc:
            abort(404, f"The stored original cannot be shown: {exc}.")
        return _original_response(body, kind)

    @app.get("/original/<hex:article_id>/res")
    def stored_resource(article_id: str) -> Response:
        record = read_quietly(layout.article_path(root, article_id))
        url = request.args.get("url", "")
        if record is None or not url:
            abort(404, "No such stored image or stylesheet.")
        try:
            found = original.resource(root, record, url)
        except originals.OriginalError as exc:
            abort(404, f"The stored resource cannot be shown: {exc}.")
        if found is None:
            abort(404, "This image or stylesheet is not stored with the article.")
        body, kind = found
        if kind.startswith("image/svg") or "html" in kind or "javascript" in kind:
            kind = "text/plain" if "svg" not in kind else kind
        return _original_response(body, kind)

    @app.get("/link/<hex:link_id>/original")
    def link_original(link_id: str) -> Response:
        """What the site served for a link (a gone or blocked page kept as evidence)."""
        record = read_quietly(layout.link_path(root, link_id))
        pointer = (record or {}).get("original")
        if record is None or not isinstance(pointer, dict):
            abort(404, "No response is stored for this link.")
        fetch = record.get("fetch") or {}
        stand_in = {
            "id": record.get("article") or link_id,
            "url": record.get("canonical_url"),
            "final_url": fetch.get("final_url"),
            "original": pointer,
            "fetched_at": fetch.get("fetched_at"),
            "attachments": {},
        }
        banner = render_template("banner.html", article=stand_in)
        try:
            body, kind = original.page(root, stand_in, banner)
        except originals.OriginalError as exc:
            abort(404, f"The stored response cannot be shown: {exc}.")
        return _original_response(body, kind)

    @app.get("/search")
    def search() -> tuple[str, int] | str:
        query = request.args.get("q", "")
        site = request.args.get("site", "")
        since = request.args.get("since", "")
        status = request.args.get("status", "")
        page = _page_number(request.args.get("page"))
        args = {"q": query, "site": site, "since": since, "status": status, "page": page}
        if not query.strip():
            return render_template("search.html", hits=[], more=False, error=None, **args)
        fresh()
        try:
            hits, more = index.search(
                query,
                sites=[site] if site else [],
                since=since or None,
                statuses=[status] if status else [],
                limit=20,
                offset=(page - 1) * 20,
            )
        except SearchError as exc:
            shown = {**args, "q": query[:MAX_QUERY]}
            html = render_template("search.html", hits=[], more=False, error=str(exc), **shown)
            return html, 400
        return render_template("search.html", hits=hits, more=more, error=None, **args)

    @app.get("/runs")
    def runs() -> str:
        return render_template("runs.html", **views.runs_page(root))

    app.jinja_env.filters["snippet"] = _snippet
    app.jinja_env.globals["statuses"] = [str(s) for s in Status]
    app.jinja_env.globals["quote"] = lambda s: quote(str(s), safe="")
    app.jinja_env.globals["url_for"] = url_for
    return app


def _snippet(parts: list[tuple[str, bool]]) -> Markup:
    return Markup("".join(f"<mark>{escape(t)}</mark>" if m else str(escape(t)) for t, m in parts))


def _page_number(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 100_000))
    except ValueError:
        return 1


def _original_response(body: bytes, kind: str) -> Response:
    response = Response(body, mimetype=kind)
    response.headers["Content-Security-Policy"] = original.ORIGINAL_CSP
    if not kind.startswith(("text/html", "image/", "text/css", "text/plain", "font/")):
        response.headers["Content-Disposition"] = "attachment"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def is_loopback(host: str) -> bool:
    """Whether `host` is a loopback address or `localhost`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(root: Path, *, host: str = "127.0.0.1", port: int = 8000, pywb: str | None = None) -> int:
    """Serve the reader until interrupted; print where."""
    from werkzeug.serving import make_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not is_loopback(host):
        print(
            f"warning: serving on {host}: anyone who can reach it reads the archive "
            "(the reader has no login)",
            file=sys.stderr,
        )
    app = create_app(root, pywb=pywb)
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))  # werkzeug exits on its own words when it cannot
        server = make_server(host, port, app, threaded=True)
    except (OSError, SystemExit) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "address in use"
        print(f"error: cannot listen on {host}:{port}: {why}", file=sys.stderr)
        return 2
    shown = f"[{host}]" if ":" in host else host
    print(f"reading {root} at http://{shown}:{server.server_port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
