"""The web reader in a real browser: Debian's headless Chromium, driven by selenium through
/usr/bin/chromedriver, against `python -m crawler.archive serve` on loopback over a crawled
archive. It opens the digests, a digest, follows an entry to its source and to the stored
original (whose images load from the archive), searches, and sees a gone badge. Screenshots
are kept under the test's tmp_path; their paths are printed."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CRAWL_ENV, REPO

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="Debian's chromium and chromium-driver are not installed (.ci/run installs them)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def reader_url(reader_site: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The reader served on loopback over a copy of the crawled archive."""
    archive = tmp_path_factory.mktemp("browser") / "archive"
    shutil.copytree(reader_site.archive, archive)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "crawler.archive", "serve", str(archive), "--port", str(port)],
        cwd=REPO,
        env=CRAWL_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line, line
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium with a fresh profile, nothing of its own on the network."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _arrive(driver: Any, part: str) -> None:
    """Wait until the browser is at a URL holding `part` and the page has loaded."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30).until(
        lambda d: (
            part in d.current_url and d.execute_script("return document.readyState") == "complete"
        )
    )


def _shot(driver: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


def test_a_person_reads_a_digest_follows_an_entry_and_searches(
    browser: Any, reader_url: str, reader_site: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(reader_url + "/")
    assert "Digests" in browser.title
    _shot(browser, tmp_path, "home")
    link = browser.find_element(By.CSS_SELECTOR, 'a.digest-link[href="/digest/hangye-2026-03-02"]')
    link.click()
    _arrive(browser, "/digest/hangye-2026-03-02")
    badges = [b.text for b in browser.find_elements(By.CSS_SELECTOR, ".badge.gone")]
    assert any(text.startswith("gone since ") for text in badges), badges
    assert browser.find_elements(By.CSS_SELECTOR, "article.entry.nothing#e3")
    found = browser.find_elements(By.CSS_SELECTOR, "#e1 .summary mark.found")
    missing = browser.find_elements(By.CSS_SELECTOR, "#e1 .summary mark.notfound")
    assert "18%" in [m.text for m in found] and "3 亿" in [m.text for m in missing]
    _shot(browser, tmp_path, "digest")

    browser.find_element(By.CSS_SELECTOR, "#e1 a.source-link").click()
    _arrive(browser, "/article/")
    title = browser.find_element(By.CSS_SELECTOR, "h1.article-title").text
    assert title == "星河实验室开源 StarRiver-2：70 亿参数，128K 上下文"
    assert "hangye-2026-03-02 #1" in browser.find_element(By.CSS_SELECTOR, "ul.cites").text
    _shot(browser, tmp_path, "article")

    browser.find_element(By.CSS_SELECTOR, "a.original-link").click()
    _arrive(browser, "/original/")
    images = browser.find_elements(By.CSS_SELECTOR, "img")
    loaded = [
        img
        for img in images
        if browser.execute_script("return arguments[0].naturalWidth", img) > 0
        and "/res?url=" in (img.get_attribute("src") or "")
    ]
    assert len(loaded) >= 2, [img.get_attribute("src") for img in images]
    assert "星河实验室正式开源" in browser.find_element(By.TAG_NAME, "body").text
    _shot(browser, tmp_path, "original")

    browser.get(reader_url + "/")
    box = browser.find_element(By.CSS_SELECTOR, "form.searchbox input[name=q]")
    box.send_keys("推理芯片")
    box.submit()
    _arrive(browser, "/search?q=")
    hits = browser.find_elements(By.CSS_SELECTOR, "li.hit a.hit-title")
    assert hits and hits[0].text == "北辰科技发布推理芯片 Polaris-X1"
    marks = [m.text for m in browser.find_elements(By.CSS_SELECTOR, "li.hit .snippet mark")]
    assert "推理芯片" in marks
    _shot(browser, tmp_path, "search")

    box = browser.find_element(By.CSS_SELECTOR, "form.filters input[name=q]")
    box.clear()
    box.send_keys("Orion-3")
    browser.find_element(
        By.CSS_SELECTOR, "form.filters select[name=status] option[value=gone]"
    ).click()
    browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
    _arrive(browser, "status=gone")
    gone = browser.find_elements(By.CSS_SELECTOR, "li.hit .badge.gone")
    assert [b.text for b in gone] == ["gone"]
    browser.find_element(By.CSS_SELECTOR, "li.hit a.hit-title").click()
    _arrive(browser, "/digest/hangye-2026-03-02#e4")
    _shot(browser, tmp_path, "gone")


def test_the_browser_gets_clear_pages_for_bad_addresses(
    browser: Any, reader_url: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(reader_url + "/digest/..%2F..%2Fetc%2Fpasswd")
    said = browser.find_element(By.CSS_SELECTOR, "p.error").text
    assert said.startswith(("Nothing in this archive is at /digest/", "No digest")), said
    browser.get(reader_url + "/search?q=" + "x" * 5000)
    assert "characters long" in browser.find_element(By.CSS_SELECTOR, "p.error").text
    _shot(browser, tmp_path, "error")
