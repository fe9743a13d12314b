"""crawler.archive.search and summaries: the derived full-text index, kept up to date from the
files, and each entry's summary read back from its digest (in-process archives, no crawl)."""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from crawler.archive import Archive, layout, search
from crawler.archive.search import MAX_QUERY, Query, SearchError, SearchIndex, cjk_bigrams
from crawler.archive.summaries import entry_summaries, summaries
from crawler.digests import parse_digest
from crawler.items import Status
from tests.conftest import REPO, record_fetch

DIGEST = """# 🤖 AI行业速递 - 2026年03月02日

## 星河实验室开源 StarRiver-2 大模型

> **分类：** 技术前沿解读
> **来源：** [硅基观察](https://news.example.com/a/1) 、 [量子位](https://news.example.com/a/2)

**核心洞察：** 参数规模 70 亿，上下文扩展到 128K。
**内容简介：**

- 训练：使用约 9 万亿 token 语料。

---

## 已删除的报道：Orion-3 发布

> **来源：** [某号](https://gone.example.com/x)

**核心洞察：** Orion-3 参数规模 1.2 万亿。
"""

LATER = """---
title: AI 日报
date: 2026-03-05
---
# AI 日报

## 模型

### [北辰芯片 Polaris 上市](https://chips.example.org/p/9)

Polaris 单卡算力 512 TOPS。
"""


def _digest(archive: Archive, root: Path, name: str, text: str) -> None:
    raw = text.encode()
    archive.record_digest(parse_digest(raw, str(root / name)), raw, time.time())


@pytest.fixture
def archive(tmp_path: Path) -> Any:
    """An open archive with one digest: an archived source, a second one, a gone one."""
    root = tmp_path / "archive"
    arc = Archive(root).open()
    _digest(arc, tmp_path, "hangye-2026-03-02.md", DIGEST)
    record_fetch(
        arc,
        "https://news.example.com/a/1",
        status=Status.ARCHIVED,
        title="星河实验室开源 StarRiver-2",
        text="星河实验室今天开源了第二代双语大模型 StarRiver-2，参数规模为 70 亿。\n"
        "模型支持 128K 上下文。",
        body_sha256="a" * 64,
    )
    record_fetch(
        arc,
        "https://news.example.com/a/2",
        status=Status.ARCHIVED,
        title="量子位：国产大模型又一个",
        text="量子位报道，StarRiver-2 的训练语料约为 9 万亿 token，团队来自北京。",
        body_sha256="b" * 64,
    )
    record_fetch(arc, "https://gone.example.com/x", status=Status.GONE, reason="HTTP 404")
    yield arc
    arc.close()


def _titles(index: SearchIndex, query: str, **kw: Any) -> list[str | None]:
    hits, _ = index.search(query, **kw)
    return [h.title for h in hits]


def test_chinese_substrings_of_three_characters_or_more_are_found(archive: Any) -> None:
    index = SearchIndex(archive.root)
    index.refresh()
    assert _titles(index, "双语大模型") == ["星河实验室开源 StarRiver-2"]
    assert _titles(index, "starriver")[0] == "星河实验室开源 StarRiver-2"  # in its title: first
    assert set(_titles(index, "starriver")) == {
        "星河实验室开源 StarRiver-2",
        "量子位：国产大模型又一个",
    }


def test_one_and_two_character_terms_use_the_short_index(archive: Any) -> None:
    index = SearchIndex(archive.root)
    index.refresh()
    assert set(_titles(index, "北京")) == {"量子位：国产大模型又一个"}  # only in its text
    assert _titles(index, "京北") == []  # a phrase, not two characters anywhere
    assert set(_titles(index, "京")) == {"量子位：国产大模型又一个"}  # the end of a run
    assert set(_titles(index, "自")) == {"量子位：国产大模型又一个"}  # inside one (来自)
    assert _titles(index, "K 上") == []  # "128K 上下文": two terms, K is no word there
    assert len(_titles(index, "上")) == 2  # both cited by the entry saying 上下文
    assert set(_titles(index, "模型 北京")) == {"量子位：国产大模型又一个"}  # with a long term too


def test_a_hit_has_a_snippet_and_the_entries_citing_it(archive: Any) -> None:
    index = SearchIndex(archive.root)
    index.refresh()
    hits, more = index.search('"128K 上下文"')
    assert not more and len(hits) == 1
    hit = hits[0]
    assert "[128K 上下文]" in hit.snippet_text()
    assert hit.entries == [
        {
            "digest": "hangye-2026-03-02",
            "entry": 1,
            "entry_title": "星河实验室开源 StarRiver-2 大模型",
            "digest_date": "2026-03-02",
        }
    ]
    assert hit.statuses == [Status.ARCHIVED]
    hits, _ = index.search("ｓｔａｒｒｉｖｅｒ－２")  # full-width, lower case: marked as written
    assert "[StarRiver-2]" in hits[0].snippet_text()


def test_summaries_are_searched_and_a_gone_entry_is_found_by_its_summary(archive: Any) -> None:
    index = SearchIndex(archive.root)
    index.refresh()
    hits, _ = index.search("Orion-3")
    assert [(h.kind, h.statuses) for h in hits] == [("entry", [Status.GONE])]
    assert _titles(index, "Orion-3", statuses=[Status.ARCHIVED]) == []
    assert len(_titles(index, "Orion-3", statuses=[Status.GONE])) == 1


def test_filters_site_and_since(archive: Any, tmp_path: Path) -> None:
    _digest(archive, tmp_path, "ribao-2026-03-05.md", LATER)
    record_fetch(
        archive,
        "https://chips.example.org/p/9",
        status=Status.ARCHIVED,
        title="北辰芯片 Polaris 上市",
        text="北辰芯片发布 Polaris，单卡算力 512 TOPS，面向大模型推理。",
        body_sha256="c" * 64,
    )
    index = SearchIndex(archive.root)
    index.refresh()
    assert len(_titles(index, "大模型")) == 3
    assert _titles(index, "大模型", sites=["example.org"]) == ["北辰芯片 Polaris 上市"]
    assert _titles(index, "大模型", sites=["chips.example.org"]) == ["北辰芯片 Polaris 上市"]
    assert _titles(index, "大模型", since="2026-03-04") == ["北辰芯片 Polaris 上市"]
    with pytest.raises(SearchError, match="YYYY-MM-DD"):
        index.search("大模型", since="yesterday")
    with pytest.raises(SearchError, match="unknown status"):
        index.search("大模型", statuses=["deleted"])


def test_refresh_takes_in_new_changed_and_removed_records(archive: Any, tmp_path: Path) -> None:
    index = SearchIndex(archive.root)
    index.refresh()
    assert _titles(index, "Polaris") == []
    _digest(archive, tmp_path, "ribao-2026-03-05.md", LATER)
    assert index.refresh() is not None
    assert _titles(index, "Polaris") == ["北辰芯片 Polaris 上市"]  # an entry doc: not fetched
    record_fetch(
        archive,
        "https://chips.example.org/p/9",
        status=Status.ARCHIVED,
        title="Polaris 发布",
        text="Polaris 单卡算力 512 TOPS。",
        body_sha256="d" * 64,
    )
    index.refresh()
    hits, _ = index.search("Polaris")
    assert [(h.kind, h.title) for h in hits] == [("article", "Polaris 发布")]
    archive.forget(["ribao-2026-03-05"], prune=True)
    index.refresh()
    assert _titles(index, "Polaris") == []


def test_a_changed_file_is_seen_even_within_one_clock_tick(archive: Any) -> None:
    index = SearchIndex(archive.root)
    index.refresh()
    path = layout.article_path(
        archive.root, archive.link_record(_link_id("https://news.example.com/a/1"))["article"]
    )
    record = path.read_text(encoding="utf-8")
    stat = path.stat()
    path.write_text(record.replace("双语大模型", "三语大模型"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the same modification time
    index.refresh()
    assert _titles(index, "三语大模型") == ["星河实验室开源 StarRiver-2"]


def _link_id(url: str) -> str:
    from crawler.urls import url_id

    return url_id(url)


def test_rebuild_gives_what_refreshes_gave(archive: Any) -> None:
    index = SearchIndex(archive.root)
    index.refresh()
    before = [h.as_dict() for h in index.search("大模型")[0]]
    counts = index.rebuild()
    assert counts["articles"] == 2
    assert [h.as_dict() for h in index.search("大模型")[0]] == before


def _days_archive(tmp_path: Path) -> Any:
    """Three articles naming Zephyr, cited on three days; the oldest in its title."""
    arc = Archive(tmp_path / "days").open()
    pages = [
        ("2026-03-01", "Zephyr 发布第三代芯片", "Zephyr 今天发布第三代推理芯片。"),
        ("2026-03-02", "一周芯片新闻", "本周新闻很多，其中提到 Zephyr 的新品。" + "其他。" * 20),
        ("2026-03-03", "芯片行业观察", "行业观察：Zephyr 之外还有很多厂商。" + "更多。" * 20),
    ]
    for n, (day, title, text) in enumerate(pages):
        url = f"https://chips.example.org/p/{n}"
        _digest(arc, tmp_path, f"ribao-{day}.md", f"# AI 日报 {day}\n\n### [{title}]({url})\n")
        sha = f"{n}" * 64
        record_fetch(arc, url, status=Status.ARCHIVED, title=title, text=text, body_sha256=sha)
    return arc


def test_document_rowids_follow_the_day_they_were_last_cited(tmp_path: Path) -> None:
    arc = _days_archive(tmp_path)
    index = SearchIndex(arc.root)
    index.refresh()
    with sqlite3.connect(index.path) as db:
        order = [t for (t,) in db.execute("SELECT last_cited FROM docs ORDER BY rowid")]
    assert order == ["2026-03-01", "2026-03-02", "2026-03-03"]
    arc.close()


def test_of_more_matches_than_are_ranked_the_newest_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arc = _days_archive(tmp_path)
    index = SearchIndex(arc.root)
    index.refresh()
    assert _titles(index, "Zephyr")[0] == "Zephyr 发布第三代芯片"  # its title: first
    monkeypatch.setattr(search, "RANK_AT_MOST", 1)
    hits, more = index.search("Zephyr", limit=1)  # the newest 2 ranked (one more tells "more")
    assert [h.title for h in hits] != ["Zephyr 发布第三代芯片"] and more
    assert _titles(index, "Zephyr", limit=3)[0] == "Zephyr 发布第三代芯片"  # all 3 ranked
    assert set(_titles(index, "Zephyr", since="2026-03-02", limit=3)) == {
        "一周芯片新闻",
        "芯片行业观察",
    }
    arc.close()


def test_the_search_help_states_the_ranking_bound(capsys: pytest.CaptureFixture[str]) -> None:
    from crawler.archive.__main__ import main

    with pytest.raises(SystemExit):
        main(["search", "--help"])
    assert f"the most recently cited {search.RANK_AT_MOST:,} are ranked" in " ".join(
        capsys.readouterr().out.split()
    )


@pytest.mark.parametrize(
    "query",
    ['NEAR("a" "b")', "title:x OR y", "*", '"', 'a" AND "b', "^模型", "col:模型 AND", "-x", "(((("],
)
def test_fts_syntax_in_a_query_is_searched_as_written(archive: Any, query: str) -> None:
    index = SearchIndex(archive.root)
    index.refresh()
    hits, _ = index.search(query)  # never an sqlite error
    assert hits == []


def test_oversized_and_empty_queries_are_refused_in_a_sentence(archive: Any) -> None:
    index = SearchIndex(archive.root)
    with pytest.raises(SearchError, match=f"10000 characters long; at most {MAX_QUERY}"):
        index.search("模" * 10_000)
    with pytest.raises(SearchError, match="empty"):
        index.search("  \x00 ")
    with pytest.raises(SearchError, match="terms"):
        index.search(" ".join(f"t{i}xx" for i in range(20)))


def test_query_terms_are_quoted_for_fts() -> None:
    query = Query.parse('GPT-5 "Hugging Face" 模型 ＡＩ')
    assert query.terms == ("GPT-5", "Hugging Face", "模型", "ＡＩ")
    assert query.long_match() == '"GPT-5" AND "Hugging Face"'
    assert query.short_match() == '"模型" AND ("ＡＩ" OR "AI")'
    assert cjk_bigrams("AI大模型 GPT-5，𠀀字") == "AI 大模 模型 型  GPT-5， 𠀀字 字 "
    assert Query.parse("模").short_match() == '"模" *'  # a bigram starting with it, or a run's end
    assert Query.parse("股A").short_match() == '"股 A"'  # 股 closes its run: a token alone


def test_an_archive_that_cannot_be_written_keeps_its_index_in_the_cache(
    archive: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == archive.root else real_access(p, mode)
    )
    index = SearchIndex(archive.root)
    assert index.path.parent == tmp_path / "cache" / "sources"
    index.refresh()
    assert _titles(index, "双语大模型") == ["星河实验室开源 StarRiver-2"]
    assert not (archive.root / "search.sqlite3").exists()


def test_an_index_of_another_version_is_rebuilt(archive: Any) -> None:
    index = SearchIndex(archive.root)
    index.refresh()
    db = sqlite3.connect(index.path)
    db.execute("UPDATE meta SET value='0' WHERE key='version'")
    db.execute("DROP TABLE docs")  # an older shape of a table, too
    db.execute("CREATE TABLE docs(rowid INTEGER PRIMARY KEY, key TEXT)")
    db.commit()
    db.close()
    index.refresh()
    assert _titles(index, "双语大模型") == ["星河实验室开源 StarRiver-2"]


def test_a_damaged_record_is_left_out_not_raised(archive: Any) -> None:
    index = SearchIndex(archive.root)
    article_id = archive.link_record(_link_id("https://news.example.com/a/2"))["article"]
    layout.article_path(archive.root, article_id).write_text("{not json", encoding="utf-8")
    index.refresh()
    assert _titles(index, "双语大模型") == ["星河实验室开源 StarRiver-2"]
    assert _titles(index, "北京") == []


# -- summaries ------------------------------------------------------------------------------


def _entries(text: str) -> list[dict[str, Any]]:
    return [asdict(e) for e in parse_digest(text.encode(), "x.md").entries]


def test_summaries_of_the_three_formats_leave_out_titles_fields_and_link_lines() -> None:
    fixtures = REPO / "tests" / "fixtures" / "digests"
    hangye = (fixtures / "hangye.md").read_text(encoding="utf-8")
    found = entry_summaries(hangye, _entries(hangye))
    assert found[1].startswith("端侧多模态正从「能跑」走向「好用」")
    assert "模型规模：8B 参数" in found[1]
    assert "分类" not in found[1] and "机器之心" not in found[1] and "http" not in found[1]
    assert "示例智能发布" not in found[1]  # the title is not the summary
    assert found[2].startswith("价格战从训练侧蔓延到推理侧")
    assert "旗舰模型推理价格下调 80%" in found[2]
    assert "价格战" not in found[1] and "端侧" not in found[2]  # each entry its own part


def test_a_table_of_contents_does_not_take_the_entries_summaries() -> None:
    text = """# 周报

## 目录

- [一号新闻](https://a.example.com/1)
- [二号新闻](https://a.example.com/2)

## 一号新闻

一号新闻的摘要：营收增长 30%。

[原文](https://a.example.com/1)

## 二号新闻

二号新闻的摘要：用户 500 万。

[原文](https://a.example.com/2)
"""
    entries = [
        {"position": 1, "title": "一号新闻", "links": [{"url": "https://a.example.com/1"}]},
        {"position": 2, "title": "二号新闻", "links": [{"url": "https://a.example.com/2"}]},
    ]
    assert entry_summaries(text, entries) == {
        1: "一号新闻的摘要：营收增长 30%。",
        2: "二号新闻的摘要：用户 500 万。",
    }


def test_a_quick_list_item_keeps_what_follows_its_link() -> None:
    text = (
        "# 日报\n\n## 更多动态\n\n- [甲发布乙](https://b.example.com/1)，面向 100 家企业\n"
        "- [丙](https://b.example.com/2)\n"
    )
    found = entry_summaries(text, _entries(text))
    assert found == {1: "面向 100 家企业", 2: ""}


def test_an_entry_carrying_its_own_summary_is_taken_as_it_is(archive: Any) -> None:
    record = archive.digest_record("hangye-2026-03-02")
    for entry in record["entries"]:
        entry["summary"] = f"given {entry['position']}"
    assert summaries(archive.root, record) == {1: "given 1", 2: "given 2"}


def test_a_digest_whose_original_cannot_be_read_has_empty_summaries(archive: Any) -> None:
    record = archive.digest_record("hangye-2026-03-02")
    record["original"] = {"warc": "../../etc/passwd", "offset": 0, "length": 10}
    assert summaries(archive.root, record) == {1: "", 2: ""}
