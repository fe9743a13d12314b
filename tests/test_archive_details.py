"""crawler.archive.details: the checkable details of a summary, and where a source says them.

Every case here was read by hand: the source either says the detail (in another spelling a
reader accepts) or does not, and the check must say so. The second table is the one that
matters most: nothing may be marked found where the source does not say it.
"""

from __future__ import annotations

import pytest

from crawler.archive.details import (
    AMOUNT,
    DATE,
    NAME,
    NUMBER,
    PERCENT,
    RANGE,
    VERSION,
    Source,
    details,
    normalise,
)


def _one(summary: str):  # type: ignore[no-untyped-def]
    found = details(summary)
    assert len(found) == 1, [(d.kind, d.text) for d in found]
    return found[0]


@pytest.mark.parametrize(
    ("summary", "kind", "text"),
    [
        ("注册人数突破2.3万人", NUMBER, "2.3万人"),
        ("准确率达93.05%", PERCENT, "93.05%"),
        ("完成5亿美元融资", AMOUNT, "5亿美元"),
        ("售价 $19.99/月", AMOUNT, "$19.99"),
        ("2026年2月5日发布", DATE, "2026年2月5日"),
        ("于 2026-02-04 上线", DATE, "2026-02-04"),
        ("2月5日起", DATE, "2月5日"),
        ("升级到 v2.1", VERSION, "v2.1"),
        ("对标 GPT-5 的表现", NAME, "GPT-5"),
        ("发布 MiniCPM-o 4.5", NAME, "MiniCPM-o 4.5"),
        ("资本支出1750-1850亿美元", RANGE, "1750-1850亿美元"),
        ("仅 9B 参数", NUMBER, "9B 参数"),
        ("ImageNet 上 256×256 分辨率", NUMBER, "256×256"),
    ],
)
def test_details_are_found_in_a_summary(summary: str, kind: str, text: str) -> None:
    found = [d for d in details(summary) if d.kind == kind]
    assert [d.text for d in found] == [text]
    assert summary[found[0].start : found[0].end] == text


@pytest.mark.parametrize(
    "summary",
    [
        "这是一个关于 AI 与 API 的讨论",  # generic words are no names
        "有 5 个要点",  # a small bare number is no detail... unless it has a unit
        "",
    ],
)
def test_what_is_not_a_checkable_detail(summary: str) -> None:
    kinds = [(d.kind, d.text) for d in details(summary) if d.kind in (NAME, PERCENT, AMOUNT)]
    assert kinds == []


def test_full_width_text_keeps_its_places() -> None:
    text = "ＧＰＴ－５在１２．５％的任务上领先"
    assert normalise(text) == "gpt-5在12.5%的任务上领先"
    assert len(normalise(text)) == len(text)


# (summary, source, what the source shows where it says it): the source says it.
SAYS = [
    ("1.2万人", "共有 12,000 人参加", "12,000 人"),
    ("1.2万人", "参会者约1.2万名", "1.2万名"),
    ("１．２万人", "12,000人", "12,000人"),
    ("30亿美元", "raised $3 billion", "$3 billion"),
    ("30亿美元", "融资 30 亿美元", "30 亿美元"),
    ("5亿美元", "a $500 million round", "$500 million"),
    ("9B参数", "拥有 90 亿参数", "90 亿参数"),
    ("256K 上下文", "上下文 25.6 万", "25.6 万"),
    ("93.05%", "accuracy of 93.05%", "93.05%"),
    ("93.05%", "准确率为９３．０５％", "９３．０５％"),
    ("GPT-5", "compared with GPT 5 and others", "GPT 5"),
    ("GPT-5", "超越GPT5的表现", "GPT5"),
    ("GPT 5", "GPT-5 发布", "GPT-5"),
    ("Hugging Face", "开源在 Hugging Face 上", "Hugging Face"),
    ("OpenAI", "openai 公司", "openai"),
    ("2026年2月5日", "Released on Feb 5, 2026.", "Feb 5, 2026"),
    ("2026年2月5日", "发布于 2026-02-05 10:00", "2026-02-05"),
    ("2月5日", "2026年2月5日，公司宣布", "2026年2月5日"),
    ("2026年", "plans for 2026", "2026"),
    ("v2.1", "version 2.1 is out", "2.1"),
    ("1750-1850亿美元", "在1750亿至1850亿美元之间", "1750亿至1850亿美元"),
    ("18 个月", "用了 18 个月完成流片", "18 个月"),
    ("0.91", "GenEval 得分 0.91", "0.91"),
    ("256×256", "ImageNet 256x256", "256x256"),
    ("12,000 元", "售价约 1.2 万元", "1.2 万元"),
]


@pytest.mark.parametrize(("summary", "source", "shown"), SAYS)
def test_a_detail_the_source_says_is_found_where_it_says_it(
    summary: str, source: str, shown: str
) -> None:
    detail = _one(summary)
    place = Source(source).find(detail)
    assert place is not None, f"{summary!r} not found in {source!r}"
    assert source[place[0] : place[1]] == shown


# (summary, source): the source does NOT say it, though it says something close.
DOES_NOT_SAY = [
    ("GPT-4", "GPT-4o 的表现"),  # another model
    ("GPT-4", "GPT-4.5 发布"),
    ("Qwen2", "Qwen2.5 开源"),
    ("Claude 3", "Claude 3.5 Sonnet"),
    ("Llama", "Llamas are animals"),
    ("5亿美元", "融资 5 亿元人民币"),  # another currency
    ("5亿美元", "5 亿用户"),
    ("2.3万人", "收入 2.3 万元"),
    ("93%", "得分 93 分"),  # not a percentage
    ("93%", "提升 93 个百分点"),
    ("2月5日", "2月15日发布"),
    ("2026年2月5日", "2025年2月5日"),  # another year
    ("2026年2月", "2026年3月"),
    ("2026年", "编号 20261"),
    ("1.54 FID", "FID 为 11.54"),
    ("1.54", "得分 1.545"),
    ("v2.1", "v2.10 发布"),
    ("9B参数", "9 个参数量级"),
    ("1750-1850亿美元", "在1750亿至1900亿美元之间"),  # one end differs
    ("OpenAI", "Open AI"),  # a reader would accept it; the check asks a person instead
]


@pytest.mark.parametrize(("summary", "source"), DOES_NOT_SAY)
def test_a_detail_the_source_does_not_say_is_not_found(summary: str, source: str) -> None:
    detail = _one(summary)
    assert Source(source).find(detail) is None, f"{summary!r} wrongly found in {source!r}"


def test_a_real_shaped_summary_against_its_source() -> None:
    summary = (
        "EverMind发布EverMemOS，在LoCoMo基准测试中以93.05%准确率位列第一，并启动8万美元大赛；"
        "2026年将开源。"
    )
    source = Source(
        "EverMind 今天发布了记忆系统 EverMemOS。在 LoCoMo 上，它的准确率为 93.05%。"
        "公司同时宣布奖金 8 万美元的比赛。"
    )
    verdicts = {d.text: source.find(d) is not None for d in details(summary)}
    assert verdicts == {
        "EverMind": True,
        "EverMemOS": True,
        "LoCoMo": True,
        "93.05%": True,
        "8万美元": True,
        "2026年": False,  # the source says nothing of 2026
    }
