"""Other tools read what we write: a standard indexer (cdxj-indexer, as pywb uses) finds our
records where our pointers say they are; pywb replays an archived article with its image and
stylesheet in a real browser, from the archive's warc/ and from a WACZ the archive wrote."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest

from tests.conftest import REPO, article_html, citations, quick_digest, run_crawl, sentences


def test_cdxj_indexer_finds_every_archived_page_at_our_pointer(
    robots_ok: Any, tmp_path: Path
) -> None:
    server = robots_ok
    for n in range(3):
        server.expect_request(f"/news/{n}.html").respond_with_data(
            article_html(f"新闻{n}", sentences(f"新闻{n}")),
            content_type="text/html; charset=utf-8",
        )
    base = server.url_for("").rstrip("/")
    digests = tmp_path / "digests"
    digests.mkdir()
    quick_digest(digests / "d.md", ((f"新闻{n}", f"{base}/news/{n}.html") for n in range(3)))
    archive = tmp_path / "archive"
    assert run_crawl(archive, digests).returncode == 0

    warcs = sorted(str(p) for p in (archive / "warc").glob("*.warc.gz"))
    out = subprocess.run(
        [sys.executable, "-m", "cdxj_indexer.main", "--dir-root", str(archive), *warcs],
        capture_output=True,
        text=True,
        check=True,
    )
    index: dict[tuple[str, int], dict[str, Any]] = {}
    for line in out.stdout.splitlines():
        _surt, _ts, blob = line.split(" ", 2)
        entry = json.loads(blob)
        index[(entry["url"], int(entry["offset"]))] = entry

    rows = citations(archive)
    assert len(rows) == 3
    for row in rows:
        ptr = row["original"]
        entry = index[(row["canonical_url"], ptr["offset"])]
        assert entry["filename"] == ptr["warc"]
        assert int(entry["length"]) == ptr["length"]
        assert entry["status"] == "200" and entry["mime"] == "text/html"
    # the digest itself is indexed as a resource record
    assert any(url.startswith("file://") for url, _ in index)


# --- replay in a real browser: pywb over the archive, and over a WACZ the archive wrote ---------

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: Flags that keep Chromium off the network it would otherwise reach for (this network is
#: closed: its own connections are refused and it waits for them).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1000,800",
)
#: pywb pins redis 2.10.6, which scrapy-redis cannot share a venv with: it lives in its own
#: (README's test command makes it; so does .ci/run).
PYWB_BIN = REPO / ".venv-pywb" / "bin"


def _pywb(tool: str) -> str:
    """Path of a pywb command (its own venv, else PATH); fails with how to install it."""
    local = PYWB_BIN / tool
    if local.exists():
        return str(local)
    found = shutil.which(tool)
    if found:
        return found
    pytest.fail(
        f"pywb's {tool} not found: python3 -m venv .venv-pywb && .venv-pywb/bin/pip install "
        "pywb (README's test command does this)"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def pywb(root: Path, *, warc_dir: Path | None = None, wacz: Path | None = None) -> Iterator[str]:
    """pywb on loopback, as README's recipe runs it: a collection `sources` whose archive folder
    is the archive's warc/ (auto-indexed), or one a WACZ was added to; its base URL."""
    root.mkdir(parents=True, exist_ok=True)
    init = [_pywb("wb-manager"), "init", "sources"]
    subprocess.run(init, cwd=root, check=True, capture_output=True)
    archive_dir = root / "collections" / "sources" / "archive"
    if warc_dir is not None:
        archive_dir.rmdir()
        archive_dir.symlink_to(warc_dir.resolve(), target_is_directory=True)
    if wacz is not None:
        subprocess.run(
            [_pywb("wb-manager"), "add", "--unpack-wacz", "sources", str(wacz)],
            cwd=root,
            check=True,
            capture_output=True,
        )
    port = _free_port()
    log = (root / "wayback.log").open("wb")
    command = [_pywb("wayback"), "-b", "127.0.0.1", "-p", str(port)]
    if warc_dir is not None:
        command += ["--autoindex", "--auto-interval", "1"]
    server = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def wait_indexed(base: str, url: str, timeout: float = 60) -> None:
    """Wait until pywb's index of the collection holds `url` (auto-indexing runs each second)."""
    deadline = time.monotonic() + timeout
    query = f"{base}/sources/cdx?url={url}"
    while time.monotonic() < deadline:
        try:
            with urlopen(query, timeout=5) as answer:
                if answer.read().strip():
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"pywb did not index {url} within {timeout} s")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Debian's headless Chromium driven by selenium, with a fresh profile."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Chromium is absent: apt-get install chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def replayed(driver: Any, url: str, shot: Path) -> dict[str, Any]:
    """Load a replay URL, step into pywb's replay frame, wait for the page and its image; what
    the page shows (the image's naturalWidth, computed styles), with a screenshot kept."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    frame = WebDriverWait(driver, 30).until(lambda d: d.find_element(By.TAG_NAME, "iframe"))
    driver.switch_to.frame(frame)
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "const i = document.getElementById('fig');"
            "return document.readyState === 'complete' && i !== null && i.complete;"
        )
    )
    seen = driver.execute_script(
        "const i = document.getElementById('fig');"
        "return {width: i.naturalWidth, src: i.currentSrc, title: document.title,"
        " color: getComputedStyle(document.getElementById('title')).color,"
        " background: getComputedStyle(document.body).backgroundImage};"
    )
    driver.switch_to.default_content()
    driver.save_screenshot(str(shot))
    print(f"screenshot of the replayed page: {shot}")
    return dict(seen)


def crawl_replay_site(tmp_path: Path) -> tuple[Path, dict[str, str], list[str]]:
    """Crawl two loopback articles with a stylesheet and an image (the second's image is the
    first's bytes under another URL: a revisit); the archive, their URLs, and the log of
    requests the site answered (to tell that replay asks the live site for nothing)."""
    from tests.e2e.loopsite import LoopSite, page, png

    with LoopSite() as site:
        site.add("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
        figure = png(40, 30)
        site.add("/img/fig.png", figure, "image/png")
        site.add("/img/same.png", figure, "image/png")
        site.add("/img/bg.png", png(4, 4, (0, 90, 200)), "image/png")
        css = "#title { color: rgb(1, 2, 3); }\nbody { background: url(/img/bg.png); }\n"
        site.add("/s/site.css", css, "text/css")
        head = '<link rel="stylesheet" href="/s/site.css">'
        urls = {}
        for name, image in (("first", "/img/fig.png"), ("second", "/img/same.png")):
            body = f'<p><img id="fig" src="{image}" alt="配图"></p>'
            urls[name] = site.add(f"/{name}.html", page(f"{name}篇", body, head), "text/html")
        digests = quick_digest(tmp_path / "digests" / "d.md", list(urls.items())).parent
        archive = tmp_path / "archive"
        result = run_crawl(archive, digests)
        assert result.returncode == 0, result.stderr[-3000:]
        paths = [hit.path for hit in site.hits]
    return archive, urls, paths


@pytest.mark.slow
def test_pywb_replays_an_article_with_its_image_and_stylesheet(
    browser: Any, tmp_path: Path
) -> None:
    archive, urls, _ = crawl_replay_site(tmp_path)  # the live site is gone from here on
    with pywb(tmp_path / "pywb", warc_dir=archive / "warc") as base:
        for name, url in urls.items():
            wait_indexed(base, url)
            seen = replayed(browser, f"{base}/sources/{url}", tmp_path / f"replay-{name}.png")
            assert seen["width"] == 40, seen  # the image drew, from the archive
            assert "/sources/" in seen["src"], seen
            assert seen["color"] == "rgb(1, 2, 3)", seen  # the stylesheet applied
            assert "bg.png" in seen["background"], seen
    assert (tmp_path / "replay-second.png").stat().st_size > 0


@pytest.mark.slow
def test_a_digest_replays_as_utf8_markdown(tmp_path: Path) -> None:
    archive, _, _ = crawl_replay_site(tmp_path)
    digest = json.loads((archive / "digests" / "d.json").read_text())
    with pywb(tmp_path / "pywb", warc_dir=archive / "warc") as base:
        uri = (tmp_path / "digests" / "d.md").resolve().as_uri()
        wait_indexed(base, uri)
        with urlopen(f"{base}/sources/id_/{uri}", timeout=30) as answer:
            assert answer.headers["Content-Type"] == "text/markdown; charset=utf-8"
            assert answer.read().decode("utf-8").startswith("# 日报")
    assert digest["original"]["warc"].startswith("warc/")


@pytest.mark.slow
def test_a_wacz_the_archive_wrote_validates_and_replays_in_pywb(
    browser: Any, tmp_path: Path
) -> None:
    archive, urls, _ = crawl_replay_site(tmp_path)
    package = tmp_path / "sources.wacz"
    out = subprocess.run(
        [sys.executable, "-m", "crawler.archive", "wacz", str(archive), "-o", str(package)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    check = subprocess.run(
        [str(Path(sys.executable).parent / "wacz"), "validate", "-f", str(package)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0 and "is valid" in check.stdout, check.stdout + check.stderr
    with zipfile.ZipFile(package) as zipped:
        names = zipped.namelist()
        lines = zipped.read("pages/pages.jsonl").decode().splitlines()
        warcs = [i for i in zipped.infolist() if i.filename.startswith("archive/")]
    assert {"indexes/index.cdx", "datapackage.json", "datapackage-digest.json"} <= set(names)
    assert all(i.compress_type == zipfile.ZIP_STORED for i in warcs)
    header, *pages = map(json.loads, lines)
    assert header == {
        "format": "json-pages-1.0",
        "id": "pages",
        "title": "All Pages",
        "hasText": True,
    }
    assert sorted(p["url"] for p in pages) == sorted(urls.values())
    assert all(p["text"] and p["title"] and p["ts"] for p in pages)
    with pywb(tmp_path / "pywb", wacz=package) as base:
        url = urls["second"]  # its image is a revisit: replayed from the first's record
        wait_indexed(base, url)
        seen = replayed(browser, f"{base}/sources/{url}", tmp_path / "replay-wacz.png")
        assert seen["width"] == 40 and seen["color"] == "rgb(1, 2, 3)", seen


@pytest.mark.slow
def test_a_wacz_of_one_digest_holds_its_records_only(tmp_path: Path) -> None:
    from tests.e2e.loopsite import LoopSite, page

    with LoopSite() as site:
        site.add("/robots.txt", "User-agent: *\nAllow: /\n", "text/plain")
        for n in (1, 2):
            site.add(f"/n{n}.html", page(f"新闻{n}", ""), "text/html")
        digests = tmp_path / "digests"
        quick_digest(digests / "one.md", [("1", site.url("/n1.html"))])
        quick_digest(digests / "two.md", [("2", site.url("/n2.html"))])
        assert run_crawl(tmp_path / "archive", digests).returncode == 0
    package = tmp_path / "one.wacz"
    command = [sys.executable, "-m", "crawler.archive", "wacz", str(tmp_path / "archive")]
    out = subprocess.run(
        [*command, "-o", str(package), "--digest", "one"], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    with zipfile.ZipFile(package) as zipped:
        index = zipped.read("indexes/index.cdx").decode()
        pages = zipped.read("pages/pages.jsonl").decode()
    assert "/n1.html" in index and "/n2.html" not in index
    assert "one.md" in index and "two.md" not in index
    assert "/n1.html" in pages and "/n2.html" not in pages
    wrong = subprocess.run(
        [*command, "-o", str(package), "--digest", "nope"], cwd=REPO, capture_output=True, text=True
    )
    assert wrong.returncode != 0 and "no digest 'nope'" in wrong.stderr


#: ReplayWeb.page as its npm package ships it (`npm pack replaywebpage`, unpacked here by
#: README's test command and .ci/run): ui.js and sw.js, served from loopback.
REPLAYWEBPAGE = REPO / ".replaywebpage" / "package"

#: Finds the replayed page's image through ReplayWeb.page's shadow roots and frames (all of
#: one origin), and says what it shows.
FIND_REPLAYED = """
function find(root, depth) {
  if (depth > 12) return null;
  const hit = root.querySelector ? root.querySelector('#fig') : null;
  if (hit) return hit;
  for (const node of (root.querySelectorAll ? root.querySelectorAll('*') : [])) {
    if (node.shadowRoot) { const f = find(node.shadowRoot, depth + 1); if (f) return f; }
    if (node.tagName === 'IFRAME') {
      let d = null;
      try { d = node.contentDocument; } catch (e) {}
      if (d) { const f = find(d, depth + 1); if (f) return f; }
    }
  }
  return null;
}
const img = find(document, 0);
if (!img || !img.complete || !img.naturalWidth) return null;
const doc = img.ownerDocument;
return {width: img.naturalWidth, src: img.currentSrc, url: doc.location.href,
        color: doc.defaultView.getComputedStyle(doc.getElementById('title')).color};
"""


@pytest.mark.slow
def test_a_wacz_the_archive_wrote_replays_in_replaywebpage(browser: Any, tmp_path: Path) -> None:
    from tests.e2e.loopsite import LoopSite, static_file

    if not (REPLAYWEBPAGE / "sw.js").exists():
        pytest.fail(
            "ReplayWeb.page's npm package not found: mkdir -p .replaywebpage && cd "
            ".replaywebpage && npm pack replaywebpage@2.5.3 && tar xzf replaywebpage-2.5.3.tgz "
            "(README's test command does this)"
        )
    archive, urls, _ = crawl_replay_site(tmp_path)
    package = tmp_path / "sources.wacz"
    out = subprocess.run(
        [sys.executable, "-m", "crawler.archive", "wacz", str(archive), "-o", str(package)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    url = urls["first"]
    embed = (
        '<!doctype html><html><head><meta charset="utf-8"><script src="/ui.js"></script>'
        f'</head><body><replay-web-page source="/sources.wacz" url="{url}" replayBase="/" '
        'embed="replayonly" style="display:block;width:1000px;height:700px">'
        "</replay-web-page></body></html>"
    )
    with LoopSite() as viewer:
        viewer.routes["/ui.js"] = static_file(REPLAYWEBPAGE / "ui.js", "application/javascript")
        viewer.routes["/sw.js"] = static_file(REPLAYWEBPAGE / "sw.js", "application/javascript")
        viewer.routes["/sources.wacz"] = static_file(package, "application/wacz+zip")
        viewer.add("/index.html", embed, "text/html; charset=utf-8")
        browser.get(viewer.url("/index.html"))
        seen = None
        deadline = time.monotonic() + 90
        while seen is None and time.monotonic() < deadline:
            seen = browser.execute_script(FIND_REPLAYED)
            if seen is None:
                time.sleep(0.5)
        shot = tmp_path / "replaywebpage.png"
        browser.save_screenshot(str(shot))
        print(f"screenshot of the page in ReplayWeb.page: {shot}")
    assert seen is not None, "ReplayWeb.page did not show the article's image"
    assert seen["width"] == 40 and seen["url"] == url, seen
    assert seen["src"].startswith(viewer.url("/w/")), seen  # served by its service worker
    assert seen["color"] == "rgb(1, 2, 3)", seen
