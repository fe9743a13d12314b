"""Each item pipeline alone, on a real (not crawling) Scrapy crawler and a tmp_path archive."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler import settings as project
from crawler import stats
from crawler.archive import atomic, layout
from crawler.items import Digest, DigestRead, Entry, Extracted, FetchOutcome, Link, Role
from crawler.urls import canonicalize, url_id
from pipelines.dedupe import DedupePipeline
from pipelines.extract import ExtractPipeline
from pipelines.normalize import NormalizePipeline, clean_field, clean_text, iso_date
from pipelines.requisites import RequisitesPipeline
from pipelines.settle import SettlePipeline
from pipelines.store import StorePipeline
from tests.conftest import (
    archive_of,
    article_html,
    close_archive,
    project_crawler,
    record_fetch,
    sentences,
)

URL = "https://www.example.com/news/1.html"
URL2 = "https://www.example.com/news/2.html"
WECHAT_SHORT = "https://mp.weixin.qq.com/s/Qm9vZGxl"
WECHAT_LONG = "https://mp.weixin.qq.com/s?__biz=MzI3MTA0MTk1MA==&mid=2652599999&idx=2&sn=4b0c2e9d"


def make_crawler(tmp_path: Path, **settings: Any) -> Crawler:
    """A crawler built with the project's settings and extensions that never crawls."""
    return project_crawler(tmp_path, **settings)  # type: ignore[no-any-return]


@pytest.fixture
def crawler(tmp_path: Path) -> Iterator[Crawler]:
    """A crawler whose archive (under tmp_path) is closed after the test."""
    crawler = make_crawler(tmp_path)
    yield crawler
    close_archive(crawler)


def archive_for(crawler: Crawler) -> Any:
    """The crawler's open archive."""
    return archive_of(crawler)


def write(crawler: Crawler, item: Any) -> Any:
    """What the pipelines after reading do with an item: settle (400) then store (900)."""
    settled = SettlePipeline.from_crawler(crawler).process_item(item)
    return StorePipeline.from_crawler(crawler).process_item(settled)


def stat(crawler: Crawler, key: str) -> Any:
    return crawler.stats.get_value(key)


def digest(*urls: str, digest_id: str = "d1") -> Digest:
    links = [
        Link(
            url=u,
            role=Role.SOURCE,
            text=f"link {i}",
            canonical_url=canonicalize(u),
            link_id=url_id(canonicalize(u)),
        )
        for i, u in enumerate(urls, 1)
    ]
    return Digest(
        id=digest_id,
        source=f"/tmp/{digest_id}.md",
        sha256="ab" * 32,
        format="generic",
        title="AI 日报",
        date="2026-02-05",
        entries=[Entry(position=1, title="entry one", links=links)],
    )


def outcome(url: str = URL, **fields: Any) -> FetchOutcome:
    canonical = canonicalize(url)
    return FetchOutcome(link_id=url_id(canonical), canonical_url=canonical, **fields)


def served(url: str = URL, body: bytes = b"<html>page</html>", **fields: Any) -> FetchOutcome:
    """An outcome for a page that was served (HTTP 200, body hashed as dedupe does)."""
    fields = {
        "http_status": 200,
        "final_url": url,
        "content_type": "text/html",
        "fetched_at": time.time(),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        **fields,
    }
    return outcome(url, body=body, **fields)


def link_record(crawler: Crawler, url: str) -> dict[str, Any]:
    record = archive_for(crawler).link_record(url_id(canonicalize(url)))
    assert record is not None
    return record


def article_record(crawler: Crawler, article_id: str) -> dict[str, Any]:
    record = archive_for(crawler).article_record(article_id)
    assert record is not None
    return record


# --- pipelines.normalize -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("e\u0301cole", "\u00e9cole", id="nfc"),
        pytest.param("a\u200bb", "ab", id="zero-width-space"),
        pytest.param("\ufeffbom", "bom", id="bom"),
        pytest.param("a\u200db\u200cc", "abc", id="zero-width-joiners"),
        pytest.param("soft\u00adhyphen\u2060x", "softhyphenx", id="soft-hyphen-word-joiner"),
        pytest.param("\u202ertl\u202c", "rtl", id="bidi-marks"),
        pytest.param("a\x00b\x07c\x1bd\x7fe\x85f", "abcdef", id="c0-c1-controls"),
        pytest.param("a\u00a0b", "a b", id="nbsp"),
        pytest.param("a\u3000\u3000b", "a b", id="ideographic-space"),
        pytest.param("a \t \u2009\u202f b", "a b", id="space-runs-folded"),
        pytest.param("a\r\nb\rc", "a\nb\nc", id="crlf-and-cr"),
        pytest.param("a\n\n\nb", "a\n\nb", id="three-newlines"),
        pytest.param("a\n\n\n\n\n\nb", "a\n\nb", id="many-newlines"),
        pytest.param("a\r\n \r\n\t\r\n\u3000\r\nb", "a\n\nb", id="blank-lines-with-spaces"),
        pytest.param("a\n\nb", "a\n\nb", id="one-blank-line-kept"),
        pytest.param("  first  \n  second\u00a0 ", "first\nsecond", id="lines-stripped"),
        pytest.param("\n\n text \n\n", "text", id="outer-blank-lines"),
        pytest.param("中文\u3000标题", "中文 标题", id="cjk"),
        pytest.param("", "", id="empty"),
    ],
)
def test_clean_text_normalizes(text: str, expected: str) -> None:
    """clean_text: NFC, invisibles dropped, spaces folded, at most one blank line."""
    assert clean_text(text) == expected


@pytest.mark.parametrize("text", ["e\u200b\u0301", "e\x00\u0301", "e\ufeff\u0301"])
def test_clean_text_output_is_nfc_after_dropping_invisibles(text: str) -> None:
    """An invisible character between a letter and its accent still gives the composed letter."""
    assert clean_text(text) == "\u00e9"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, None, id="none"),
        pytest.param("", None, id="empty"),
        pytest.param(" \u200b\u3000\n", None, id="nothing-left"),
        pytest.param("  Title\u00a0 One ", "Title One", id="spaces"),
        pytest.param("Line one\r\nline two", "Line one line two", id="one-line"),
        pytest.param("\ufeffe\u0301\u200b", "\u00e9", id="nfc-invisibles"),
        pytest.param("\u3000林夏\u3000", "林夏", id="ideographic-space"),
    ],
)
def test_clean_field_gives_one_clean_line_or_none(value: str | None, expected: str | None) -> None:
    """clean_field: one cleaned line, None when nothing is left."""
    assert clean_field(value) == expected


def test_clean_field_joins_paragraphs_with_one_space() -> None:
    """A value with a blank line in it becomes one line with single spaces."""
    assert clean_field("Part one\n\n\nPart two") == "Part one Part two"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2026-02-05", "2026-02-05", id="date-stays-date"),
        pytest.param(" 2026-02-05 ", "2026-02-05", id="date-stripped"),
        pytest.param("2026-02-05T14:03:00+08:00", "2026-02-05T14:03:00+08:00", id="offset-kept"),
        pytest.param("2026-02-05 14:03:00", "2026-02-05T14:03:00+00:00", id="naive-gets-utc"),
        pytest.param("2026-02-05T14:03", "2026-02-05T14:03:00+00:00", id="no-seconds"),
        pytest.param("2026-02-05T06:03:00Z", "2026-02-05T06:03:00+00:00", id="zulu"),
        pytest.param(
            "2026-02-05T14:03:00.654321+08:00", "2026-02-05T14:03:00+08:00", id="seconds-precision"
        ),
        pytest.param("garbage", None, id="garbage"),
        pytest.param("2026年2月5日", None, id="chinese-date-not-iso"),
        pytest.param("Feb 5, 2026", None, id="english-date-not-iso"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
    ],
)
def test_iso_date(value: str | None, expected: str | None) -> None:
    """iso_date: dates stay dates, date-times keep or get an offset, garbage is None."""
    assert iso_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2026-13-45", None), ("2026-02-30", None), ("20260205", "2026-02-05")],
)
def test_iso_date_checks_calendar_dates(value: str, expected: str | None) -> None:
    """A date that is not on the calendar is None; a date without a time stays a date."""
    assert iso_date(value) == expected


def test_normalize_cleans_every_extracted_field(tmp_path: Path) -> None:
    """NormalizePipeline cleans text, the metadata fields and the publish date in place."""
    crawler = make_crawler(tmp_path)
    ex = Extracted(
        title="  Cafe\u0301\u200b  News\u00a0 ",
        author="\u3000林夏\u3000",
        site="Site\r\nName",
        language=" zh ",
        description="\u200b",
        text="\ufeffPara one\r\n\r\n\r\n\r\nPara\x00 two ",
        published="2026-02-05 14:03:00",
        images=["https://img.example.com/a.png"],
        extra={"account": " raw "},
    )
    item = served(extracted=ex)
    assert NormalizePipeline.from_crawler(crawler).process_item(item) is item
    assert item.extracted is ex
    assert (ex.title, ex.author, ex.site, ex.language) == (
        "Caf\u00e9 News",
        "林夏",
        "Site Name",
        "zh",
    )
    assert ex.description is None
    assert ex.text == "Para one\n\nPara two"
    assert ex.published == "2026-02-05T14:03:00+00:00"
    assert ex.images == ["https://img.example.com/a.png"] and ex.extra == {"account": " raw "}
    assert stat(crawler, "sources/normalize/unparsed_date") is None


def test_normalize_counts_and_drops_an_unparsable_date(tmp_path: Path) -> None:
    """An unparsable publish date becomes None and is counted in sources/normalize/unparsed_date."""
    crawler = make_crawler(tmp_path)
    pipeline = NormalizePipeline.from_crawler(crawler)
    for published in ("yesterday", "2026年2月5日"):
        item = pipeline.process_item(served(extracted=Extracted(published=published)))
        assert isinstance(item, FetchOutcome) and item.extracted is not None
        assert item.extracted.published is None
    pipeline.process_item(served(extracted=Extracted(published=None)))
    assert stat(crawler, "sources/normalize/unparsed_date") == 2


@pytest.mark.parametrize(
    "item",
    [
        pytest.param({"text": "a\u200bb"}, id="dict"),
        pytest.param(
            DigestRead(digest=digest(URL), raw=b"# d\n", read_at=0.0),
            id="digest-read",
        ),
        pytest.param(outcome(status="gone", reason=" HTTP\u00a0404 "), id="outcome-no-extracted"),
    ],
)
def test_normalize_passes_other_items_untouched(tmp_path: Path, item: Any) -> None:
    """Items other than a FetchOutcome with an Extracted come back as they were."""
    before = repr(item)
    assert NormalizePipeline.from_crawler(make_crawler(tmp_path)).process_item(item) is item
    assert repr(item) == before


# --- pipelines.dedupe ----------------------------------------------------------------------


def test_dedupe_drops_a_link_already_archived(crawler: Crawler) -> None:
    """An outcome for a link the archive index holds as archived is dropped and counted."""
    archive = archive_for(crawler)
    archive.record_digest(digest(URL, URL2), b"# digest\n", time.time())
    record_fetch(
        archive,
        URL,
        status="archived",
        http_status=200,
        title="T",
        text="hello",
        body_sha256="cd" * 32,
    )
    pipeline = DedupePipeline.from_crawler(crawler)
    with pytest.raises(DropItem, match="archived already"):
        pipeline.process_item(served(URL))
    assert stat(crawler, "sources/dropped/already_archived") == 1
    other = served(URL2)
    assert pipeline.process_item(other) is other  # pending: fetched
    assert stat(crawler, "sources/dropped/already_archived") == 1


@pytest.mark.parametrize("status", ["failed", "blocked", "gone"])
def test_dedupe_keeps_a_link_not_archived(crawler: Crawler, status: str) -> None:
    """A link recorded with another status than archived goes on to the store."""
    record_fetch(archive_for(crawler), URL, status=status, reason="x")
    item = served(URL)
    assert DedupePipeline.from_crawler(crawler).process_item(item) is item
    assert stat(crawler, "sources/dropped/already_archived") is None


def test_dedupe_hashes_the_body(crawler: Crawler) -> None:
    """body_sha256 is the sha256 of the body; None when there is no body."""
    pipeline = DedupePipeline.from_crawler(crawler)
    item = outcome(URL, body=b"<html>\xe4\xb8\xad</html>", http_status=200)
    pipeline.process_item(item)
    assert item.body_sha256 == hashlib.sha256(b"<html>\xe4\xb8\xad</html>").hexdigest()
    empty = outcome(URL2, status="failed", reason="timeout")
    pipeline.process_item(empty)
    assert empty.body_sha256 is None


@pytest.mark.parametrize(
    ("declared", "final_url", "aliases"),
    [
        pytest.param(
            WECHAT_LONG.replace("https", "http") + "&chksm=f1e2#rd",
            WECHAT_SHORT + "?from=timeline",
            [WECHAT_LONG],
            id="wechat-long-link-canonicalized-own-url-excluded",
        ),
        pytest.param(
            None,
            "https://mp.weixin.qq.com/s/OtherShortLink",
            ["https://mp.weixin.qq.com/s/OtherShortLink"],
            id="redirect-target",
        ),
        pytest.param(WECHAT_LONG, WECHAT_LONG + "&scene=1", [WECHAT_LONG], id="no-repeats"),
        pytest.param("javascript:void(0)", WECHAT_SHORT, [], id="unusable-declared-ignored"),
        pytest.param(None, None, [], id="none"),
    ],
)
def test_dedupe_collects_aliases(
    crawler: Crawler, declared: str | None, final_url: str | None, aliases: list[str]
) -> None:
    """The page's declared canonical URL and final URL, canonicalized, become aliases."""
    item = outcome(
        WECHAT_SHORT,
        http_status=200,
        body=b"x",
        final_url=final_url,
        extracted=Extracted(extractor="weixin", canonical_url=declared),
    )
    DedupePipeline.from_crawler(crawler).process_item(item)
    assert item.aliases == aliases


def test_dedupe_keeps_aliases_already_known(crawler: Crawler) -> None:
    """Aliases already on the item stay and are not repeated."""
    item = outcome(
        WECHAT_SHORT, http_status=200, body=b"x", final_url=WECHAT_LONG, aliases=[WECHAT_LONG]
    )
    DedupePipeline.from_crawler(crawler).process_item(item)
    assert item.aliases == [WECHAT_LONG]


def test_dedupe_passes_other_items(crawler: Crawler) -> None:
    """Items that are not fetch outcomes pass unchanged."""
    item = DigestRead(digest=digest(URL), raw=b"# d\n", read_at=0.0)
    assert DedupePipeline.from_crawler(crawler).process_item(item) is item


# --- pipelines.store (after pipelines.settle) --------------------------------------------


def test_store_records_a_digest_and_its_links_as_pending(crawler: Crawler) -> None:
    """A DigestRead writes the digest record and a pending link record citing it per link."""
    pipeline = StorePipeline.from_crawler(crawler)
    item = DigestRead(
        digest=digest(URL, URL2),
        raw=b"# digest\n",
        read_at=time.time(),
        file_stat=(9, 1_770_000_000_000_000_000),
    )
    assert pipeline.process_item(item) is item
    archive = archive_for(crawler)
    path = layout.digest_path(archive.root, "d1")
    assert path.is_file()
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["id"] == "d1" and record["sha256"] == "ab" * 32
    assert [lk["link_id"] for lk in record["entries"][0]["links"]] == [url_id(URL), url_id(URL2)]
    for url in (URL, URL2):
        link = link_record(crawler, url)
        assert link["status"] == "pending" and link["attempts"] == 0
        assert link["cited_by"] == [{"digest": "d1", "entry": 1, "role": "source", "url": url}]
        assert link["id"] == url_id(url)
    assert stat(crawler, "sources/links/new") == 2
    assert archive.digest_seen("ab" * 32)
    assert archive.digest_file_unchanged("/tmp/d1.md", 9, 1_770_000_000_000_000_000)
    pipeline.process_item(item)  # the same digest again: no new links
    assert stat(crawler, "sources/links/new") == 2


def test_store_archives_an_extracted_page_with_its_article(crawler: Crawler) -> None:
    """An archived outcome marks the link archived and writes its article with text_chars."""
    write(crawler, DigestRead(digest=digest(URL), raw=b"# d\n", read_at=time.time()))
    text = "第一段。\n第二段 second paragraph."
    item = served(
        URL,
        extracted=Extracted(
            status="archived", title="标题", text=text, author="林夏", published="2026-02-05"
        ),
    )
    write(crawler, item)
    link = link_record(crawler, URL)
    assert link["status"] == "archived" and link["reason"] is None
    assert link["attempts"] == 1 and link["http_status"] == 200
    assert link["cited_by"][0]["digest"] == "d1"  # kept from the digest
    assert link["fetch"]["body_sha256"] == item.body_sha256
    assert link["fetch"]["body_bytes"] == len(item.body)
    assert link["fetch"]["extractor"] == "generic"
    article = article_record(crawler, link["article"])
    assert item.article_id == link["article"]  # what the requisites stage reads
    assert article["links"] == [link["id"]]
    assert article["text"] == text and article["text_chars"] == len(text)
    assert (article["title"], article["author"], article["published"]) == (
        "标题",
        "林夏",
        "2026-02-05",
    )
    assert article["url"] == URL and article["body_sha256"] == item.body_sha256
    assert stat(crawler, "sources/links/archived") == 1
    assert stat(crawler, "sources/sites/www.example.com/archived") == 1


def test_store_records_a_gone_page_with_its_reason(crawler: Crawler) -> None:
    """status None and an extractor that says gone: the link is gone, with the reason."""
    reason = "weixin: deleted by publisher (该内容已被发布者删除)"
    item = served(
        WECHAT_SHORT, extracted=Extracted(status="gone", reason=reason, extractor="weixin")
    )
    write(crawler, item)
    link = link_record(crawler, WECHAT_SHORT)
    assert (link["status"], link["reason"], link["article"]) == ("gone", reason, None)
    assert link["fetch"]["page_state"]["status"] == "gone"
    assert link["next_attempt"] is None
    assert not list((archive_for(crawler).root / layout.ARTICLES).glob("*/*.json"))
    assert stat(crawler, "sources/links/gone") == 1
    assert stat(crawler, "sources/sites/mp.weixin.qq.com/gone") == 1
    assert stat(crawler, "sources/gone/weixin") == 1


@pytest.mark.parametrize(
    ("fields", "status", "reason"),
    [
        pytest.param(
            {"status": "gone", "reason": "HTTP 404", "http_status": 404},
            "gone",
            "HTTP 404",
            id="http-status-decided",
        ),
        pytest.param(
            {"status": "failed", "reason": "timeout: 30 s"},
            "failed",
            "timeout: 30 s",
            id="network-failure",
        ),
    ],
)
def test_store_records_outcomes_without_an_article(
    crawler: Crawler, fields: dict[str, Any], status: str, reason: str
) -> None:
    """Outcomes decided before extraction, or with nothing extracted, keep their reason."""
    write(crawler, outcome(URL, **fields))
    link = link_record(crawler, URL)
    assert (link["status"], link["reason"], link["article"]) == (status, reason, None)
    assert stat(crawler, f"sources/links/{status}") == 1
    assert stat(crawler, f"sources/sites/www.example.com/{status}") == 1


def test_settle_fails_a_served_page_without_extraction(crawler: Crawler) -> None:
    """A served page that nothing was extracted from is failed with that reason."""
    write(crawler, served(URL))
    link = link_record(crawler, URL)
    assert (link["status"], link["reason"]) == ("failed", "nothing was extracted")


def test_settle_backs_off_a_blocked_link_doubling(tmp_path: Path) -> None:
    """A blocked link gets next_attempt BLOCKED_BACKOFF ahead, doubled on the next block."""
    crawler = make_crawler(tmp_path, BLOCKED_BACKOFF=100)
    slot = SimpleNamespace(delay=1.0)
    crawler.engine = SimpleNamespace(downloader=SimpleNamespace(slots={"www.example.com": slot}))
    try:
        for attempt, backoff in ((1, 100), (2, 200)):
            before = time.time()
            write(crawler, outcome(URL, status="blocked", reason="HTTP 429", http_status=429))
            link = link_record(crawler, URL)
            assert link["status"] == "blocked" and link["attempts"] == attempt
            assert before + backoff <= link["next_attempt"] <= time.time() + backoff
        assert stat(crawler, "sources/links/blocked") == 2
        assert stat(crawler, "sources/sites/www.example.com/blocked") == 2
        assert stat(crawler, "sources/blocked/http_429") == 2
        assert slot.delay == 1.0  # HTTP 429 is the retry middleware's to back off
        # a page that is a verification wall served with HTTP 200: the site is backed off
        write(
            crawler,
            served(
                extracted=Extracted(
                    status="blocked", reason="weixin: verification", extractor="weixin"
                )
            ),
        )
        assert slot.delay == project.BLOCKED_SITE_DELAY
    finally:
        close_archive(crawler)


def test_settle_honours_a_longer_retry_after(tmp_path: Path) -> None:
    """A Retry-After longer than the back-off sets next_attempt."""
    crawler = make_crawler(tmp_path, BLOCKED_BACKOFF=100)
    crawler.engine = SimpleNamespace(downloader=None)
    try:
        before = time.time()
        write(
            crawler,
            outcome(
                URL,
                status="blocked",
                reason="HTTP 429",
                http_status=429,
                headers=[("Retry-After", "86400")],
            ),
        )
        assert link_record(crawler, URL)["next_attempt"] >= before + 86400
    finally:
        close_archive(crawler)


@pytest.mark.parametrize("value", ["soon", "99999999999999999999999999", "Fri, 99 Foo 2026", ""])
def test_settle_survives_a_malformed_retry_after(crawler: Crawler, value: str) -> None:
    """A Retry-After that is no number or date still ends the link blocked, never pending."""
    write(
        crawler,
        outcome(URL, status="blocked", reason="HTTP 429", headers=[("Retry-After", value)]),
    )
    link = link_record(crawler, URL)
    assert link["status"] == "blocked" and link["next_attempt"] is not None
    assert link["next_attempt"] < time.time() + 400 * 86400  # capped, valid JSON


def test_store_records_a_blocked_link_without_a_running_engine(crawler: Crawler) -> None:
    """With no engine (no crawl running) a blocked outcome is still stored without error."""
    write(crawler, outcome(URL, status="blocked", reason="HTTP 403", http_status=403))
    assert link_record(crawler, URL)["status"] == "blocked"


def test_store_archives_a_wechat_article_with_images_without_a_running_engine(
    tmp_path: Path,
) -> None:
    """With no engine (no crawl running) an article with images is stored without error."""
    crawler = make_crawler(
        tmp_path,
        ARTICLE_IMAGES_DOMAINS=project.ARTICLE_IMAGES_DOMAINS,
        ARTICLE_IMAGES_MAX=project.ARTICLE_IMAGES_MAX,
    )
    try:
        item = served(
            WECHAT_SHORT,
            extracted=Extracted(
                extractor="weixin", text="正文", images=["https://mmbiz.qpic.cn/a/640"]
            ),
        )
        RequisitesPipeline.from_crawler(crawler).process_item(write(crawler, item))
        assert link_record(crawler, WECHAT_SHORT)["status"] == "archived"
    finally:
        close_archive(crawler)


def test_store_one_article_for_byte_identical_bodies(crawler: Crawler) -> None:
    """Two links serving the same bytes share one article that lists both links."""
    body = b"<html>same bytes</html>"
    write(crawler, served(URL, body, extracted=Extracted(text="text read first")))
    write(crawler, served(URL2, body, extracted=Extracted(text="text read otherwise")))
    first, second = link_record(crawler, URL), link_record(crawler, URL2)
    assert first["article"] is not None and first["article"] == second["article"]
    article = article_record(crawler, first["article"])
    assert article["links"] == sorted([url_id(URL), url_id(URL2)])
    assert article["text"] == "text read first"
    assert len(list((archive_for(crawler).root / layout.ARTICLES).glob("*/*.json"))) == 1
    assert stat(crawler, "sources/links/archived") == 2


def test_store_one_article_for_identical_text(crawler: Crawler) -> None:
    """Two links with different bytes but the same extracted text share one article."""
    write(crawler, served(URL, b"<html>a</html>", extracted=Extracted(text="same")))
    write(crawler, served(URL2, b"<html>b</html>", extracted=Extracted(text="same")))
    first, second = link_record(crawler, URL), link_record(crawler, URL2)
    assert first["article"] == second["article"]
    assert article_record(crawler, first["article"])["links"] == sorted([first["id"], second["id"]])


def test_store_counts_a_write_error_and_goes_on(
    crawler: Crawler, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OSError while writing is counted, not raised; the item still comes back."""
    archive_for(crawler)  # opened before the disk "fills up"

    def full(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic, "write_json", full)
    item = served(URL, extracted=Extracted(text="t"))
    assert write(crawler, item) is item
    assert stat(crawler, "sources/archive/write_errors") == 1
    assert "No space left" in stat(crawler, "sources/archive/first_write_error")
    assert archive_for(crawler).link_record(item.link_id) is None
    assert item.article_id is None  # nothing for the requisites stage


def test_attachments_are_off_without_images_or_documents(tmp_path: Path) -> None:
    """RequisitesPipeline raises NotConfigured when nothing is to be fetched."""
    from scrapy.exceptions import NotConfigured

    crawler = make_crawler(
        tmp_path, ARTICLE_IMAGES_DOMAINS=[], ARTICLE_DOCUMENTS=False, REQUISITES_STYLES=False
    )
    try:
        with pytest.raises(NotConfigured):
            RequisitesPipeline.from_crawler(crawler)
    finally:
        close_archive(crawler)


@pytest.mark.parametrize(
    ("url", "images", "settings", "wanted"),
    [
        pytest.param(
            WECHAT_SHORT,
            ["https://mmbiz.qpic.cn/a/640", "data:image/png;base64,AA", "https://mmbiz.qpic.cn/b"],
            {},
            ["https://mmbiz.qpic.cn/a/640", "https://mmbiz.qpic.cn/b"],
            id="wechat-images-no-data-uris",
        ),
        pytest.param(
            URL,
            ["https://img.example.com/1.png"],
            {"ARTICLE_IMAGES_DOMAINS": ["mp.weixin.qq.com"]},
            [],
            id="other-site-no-images",
        ),
        pytest.param(
            URL,
            ["https://img.example.com/1.png"],
            {},
            ["https://img.example.com/1.png"],
            id="every-site-by-default",
        ),
        pytest.param(
            URL,
            ["https://img.example.com/1.png"],
            {"ARTICLE_IMAGES_DOMAINS": ["*"]},
            ["https://img.example.com/1.png"],
            id="every-site",
        ),
        pytest.param(
            WECHAT_SHORT,
            [f"https://mmbiz.qpic.cn/{i}" for i in range(5)],
            {"ARTICLE_IMAGES_MAX": 2},
            ["https://mmbiz.qpic.cn/0", "https://mmbiz.qpic.cn/1"],
            id="at-most-max",
        ),
        pytest.param(
            "https://arxiv.org/abs/2106.09608",
            [],
            {"ARTICLE_DOCUMENTS": True},
            ["https://arxiv.org/pdf/2106.09608"],
            id="arxiv-pdf",
        ),
    ],
)
def test_attachments_wanted(
    tmp_path: Path, url: str, images: list[str], settings: dict[str, Any], wanted: list[str]
) -> None:
    """Images of the sites in ARTICLE_IMAGES_DOMAINS (at most ARTICLE_IMAGES_MAX), documents."""
    crawler = make_crawler(tmp_path, **settings)
    try:
        item = served(url, extracted=Extracted(text="t", images=images))
        assert RequisitesPipeline.from_crawler(crawler).wanted(item) == wanted
    finally:
        close_archive(crawler)


# --- pipelines.extract ---------------------------------------------------------------------


def run(pipeline: ExtractPipeline, item: object) -> Any:
    """Drive the async process_item to completion (inline extraction needs no reactor)."""
    return asyncio.run(pipeline.process_item(item))


def extract_pipeline(tmp_path: Path, **settings: Any) -> tuple[Crawler, ExtractPipeline]:
    crawler = make_crawler(tmp_path, EXTRACT_WORKERS=0, **settings)
    pipeline = ExtractPipeline.from_crawler(crawler)
    pipeline.open_spider()
    assert pipeline.pool is None
    return crawler, pipeline


WECHAT_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta property="og:title" content="星河实验室开源 StarRiver-2">
<title>星河实验室开源 StarRiver-2</title></head>
<body id="activity-detail"><div id="js_article" class="rich_media">
<h1 class="rich_media_title" id="activity-name">星河实验室开源 StarRiver-2</h1>
<div id="meta_content"><span id="js_author_name">林夏</span>
<a href="javascript:void(0);" id="js_name">硅基观察</a></div>
<div class="rich_media_content" id="js_content" style="visibility: hidden;">
<section><span>2 月 5 日，星河实验室正式开源了旗下第二代双语大模型 StarRiver-2。</span>
</section>
<p><span>与第一代相比，StarRiver-2 在预训练阶段使用了约 9 万亿 token 的中英文混合语料。</span></p>
</div></div>
<script>var nickname = htmlDecode("硅基观察"); var createTime = '2026-02-05 14:03';</script>
</body></html>""".encode()


def test_extract_reads_a_served_page(tmp_path: Path) -> None:
    """An HTML page without a status gets item.extracted (title, text) and is counted."""
    crawler, pipeline = extract_pipeline(tmp_path)
    body = article_html("开源模型发布", sentences("开源模型")).encode()
    item = served(URL, body, content_type="text/html; charset=utf-8")
    assert run(pipeline, item) is item
    assert item.extracted is not None
    assert item.extracted.status == "archived" and item.extracted.extractor == "generic"
    assert item.extracted.title == "开源模型发布"
    assert "开源模型的第1段" in item.extracted.text
    assert stat(crawler, "sources/extracted/generic") == 1
    asyncio.run(pipeline.close_spider())


@pytest.mark.parametrize("status", ["gone", "failed", "blocked", "refused", "skipped"])
def test_extract_skips_outcomes_already_decided(tmp_path: Path, status: str) -> None:
    """An outcome whose status is already set is not extracted."""
    crawler, pipeline = extract_pipeline(tmp_path)
    item = served(URL, article_html("t", sentences("t")).encode(), status=status, reason="r")
    assert run(pipeline, item) is item
    assert item.extracted is None
    assert not any(k.startswith("sources/extracted/") for k in crawler.stats.get_stats())


def test_extract_passes_other_items(tmp_path: Path) -> None:
    """Items that are not fetch outcomes pass unchanged."""
    _, pipeline = extract_pipeline(tmp_path)
    item = {"url": URL}
    assert run(pipeline, item) is item


def test_extract_as_maps_a_loopback_host_to_a_site_extractor(tmp_path: Path) -> None:
    """EXTRACT_AS makes a page served from 127.0.0.1:8080 read by the WeChat extractor."""
    crawler, pipeline = extract_pipeline(
        tmp_path, EXTRACT_AS={"127.0.0.1:8080": "mp.weixin.qq.com"}
    )
    item = served(
        "http://127.0.0.1:8080/s/Qm9vZGxl", WECHAT_PAGE, content_type="text/html; charset=utf-8"
    )
    run(pipeline, item)
    assert item.extracted is not None
    assert item.extracted.extractor == "weixin" and item.extracted.status == "archived"
    assert item.extracted.title == "星河实验室开源 StarRiver-2"
    assert item.extracted.text.startswith("2 月 5 日，星河实验室正式开源")
    assert stat(crawler, "sources/extracted/weixin") == 1
    plain = served("http://127.0.0.1:9090/s/Qm9vZGxl", WECHAT_PAGE)  # another port: generic
    run(pipeline, plain)
    assert plain.extracted is not None and plain.extracted.extractor == "generic"


def test_extract_uses_the_final_url_after_redirects(tmp_path: Path) -> None:
    """The extractor is chosen by the final URL, not the cited one."""
    _, pipeline = extract_pipeline(tmp_path)
    item = served(URL, WECHAT_PAGE, final_url=WECHAT_SHORT)
    run(pipeline, item)
    assert item.extracted is not None and item.extracted.extractor == "weixin"


def test_extract_in_worker_processes(tmp_path: Path) -> None:
    """With EXTRACT_WORKERS=1 the page is read in a child process, with the same result."""
    crawler = make_crawler(tmp_path, EXTRACT_WORKERS=1)
    pipeline = ExtractPipeline.from_crawler(crawler)
    pipeline.open_spider()
    assert pipeline.pool is not None
    body = article_html("开源模型发布", sentences("开源模型")).encode()
    item = served(URL, body, content_type="text/html; charset=utf-8")

    async def crawl() -> None:
        try:
            await pipeline.process_item(item)
        finally:
            await pipeline.close_spider()

    asyncio.run(crawl())
    assert item.extracted is not None and item.extracted.status == "archived"
    assert item.extracted.title == "开源模型发布"
    assert stat(crawler, "sources/extracted/generic") == 1


@pytest.mark.parametrize(("value", "expected"), [("auto", None), ("3", 3), (0, 0), ("", None)])
def test_extract_workers_setting(tmp_path: Path, value: object, expected: int | None) -> None:
    """EXTRACT_WORKERS takes a number or "auto" (one per core beyond the first)."""
    from crawler.extractpool import default_size

    pipeline = ExtractPipeline.from_crawler(make_crawler(tmp_path, EXTRACT_WORKERS=value))
    assert pipeline.workers == (default_size() if expected is None else expected)


def test_extract_workers_setting_names_a_bad_value(tmp_path: Path) -> None:
    """The pipeline's own guard (a crawler without the run report, which checks first)."""
    without_report = {"crawler.extensions.report.RunReport": None}
    with pytest.raises(ValueError, match="EXTRACT_WORKERS must be a number of processes"):
        ExtractPipeline.from_crawler(
            make_crawler(tmp_path, EXTRACT_WORKERS="many", EXTENSIONS=without_report)
        )


def test_a_bad_extract_workers_setting_stops_a_project_crawler_before_the_archive_opens(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match=r"^setting EXTRACT_WORKERS='many': expected 'auto' or"):
        make_crawler(tmp_path, EXTRACT_WORKERS="many")
    assert not (tmp_path / "archive").exists()


# --- no exception leaves a link pending; digest ids never collide -----------------------------


def test_an_unexpected_error_while_storing_records_the_link_failed(
    crawler: Crawler, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = archive_for(crawler)
    real = archive.record_outcome
    calls: list[int] = []

    def once(item: FetchOutcome) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise KeyError("retry-after")
        return real(item)

    monkeypatch.setattr(archive, "record_outcome", once)
    write(crawler, outcome(status="failed", reason="HTTP 503", http_status=503))
    record = link_record(crawler, URL)
    assert record["status"] == "failed"
    assert record["reason"] == "store error: KeyError: 'retry-after'"
    assert stat(crawler, stats.STORE_ERRORS) == 1


def test_an_error_an_earlier_stage_raised_records_the_link_failed(crawler: Crawler) -> None:
    from twisted.python.failure import Failure

    pipeline = StorePipeline.from_crawler(crawler)
    pipeline.item_error(
        item=outcome(http_status=200), response=None, spider=None, failure=Failure(ValueError("x"))
    )
    record = link_record(crawler, URL)
    assert (record["status"], record["reason"]) == ("failed", "store error: ValueError: x")
    # a dropped item is not an error
    pipeline.item_error(
        item=outcome(URL2), response=None, spider=None, failure=Failure(DropItem("dup"))
    )
    assert archive_for(crawler).link_record(url_id(canonicalize(URL2))) is None


def test_two_digests_with_one_file_name_in_two_folders_keep_a_digest_each(
    crawler: Crawler,
) -> None:
    store = StorePipeline.from_crawler(crawler)
    first, second = digest(URL, digest_id="daily"), digest(URL2, digest_id="daily")
    first.source, second.source = "/digests/a/daily.md", "/digests/b/daily.md"
    store.process_item(DigestRead(first, b"# a", time.time()))
    store.process_item(DigestRead(second, b"# b", time.time()))
    assert first.id == "daily" and second.id.startswith("daily-") and len(second.id) == 14
    archive = archive_for(crawler)
    assert archive.digest_record("daily")["source"] == "/digests/a/daily.md"
    assert archive.digest_record(second.id)["source"] == "/digests/b/daily.md"
    assert link_record(crawler, URL2)["cited_by"][0]["digest"] == second.id
    # each keeps its id when read again (changed), and so does a third spelling of the path
    again = digest(URL, URL2, digest_id="daily")
    again.source = "/digests/b/../b/daily.md"
    store.process_item(DigestRead(again, b"# b2", time.time()))
    assert again.id == second.id
    assert {c["digest"] for c in link_record(crawler, URL2)["cited_by"]} == {second.id}


def test_long_names_alike_in_their_first_80_characters_keep_a_digest_each(
    crawler: Crawler,
) -> None:
    from crawler.digests import digest_id

    stem = "2026-02-05-" + "很长的日报名字" * 12
    a, b = f"/d/{stem}-上午.md", f"/d/{stem}-下午.md"
    assert digest_id(a) == digest_id(b)
    store = StorePipeline.from_crawler(crawler)
    first, second = digest(URL, digest_id=digest_id(a)), digest(URL2, digest_id=digest_id(b))
    first.source, second.source = a, b
    store.process_item(DigestRead(first, b"1", time.time()))
    store.process_item(DigestRead(second, b"2", time.time()))
    assert first.id != second.id
    assert len(list((archive_for(crawler).root / "digests").glob("*.json"))) == 2
    assert stat(crawler, stats.STORE_ERRORS) is None


def test_a_digest_with_a_long_chinese_file_name_is_recorded(crawler: Crawler) -> None:
    """80 汉字 are 240 bytes: the id is cut to ID_BYTES, its temp and quarantine names too."""
    from crawler.digests import ID_BYTES, digest_id, digest_id_candidates

    source = "/d/" + "𠮷很长的日报" * 20 + ".md"  # 4-byte characters too
    wanted = digest_id(source)
    assert len(wanted.encode()) <= ID_BYTES
    assert all(len(f"{c}.json".encode()) < 255 for c in list(digest_id_candidates(source))[:5])
    item = digest(URL, digest_id=wanted)
    item.source = source
    StorePipeline.from_crawler(crawler).process_item(DigestRead(item, b"x", time.time()))
    assert archive_for(crawler).digest_record(wanted) is not None
    assert stat(crawler, stats.ARCHIVE_WRITE_ERRORS) is None
