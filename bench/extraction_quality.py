"""Extraction quality: our extractors against plain trafilatura, on pages with ground truth.

    python bench/extraction_quality.py

Pages: the real saved pages of ../shared/pages (TRUTH.jsonl, read by hand) when that folder
exists, and our own fixtures (tests/fixtures/pages) whose json states the truth. Plain trafilatura
is `trafilatura.extract(body, url=..., output_format="json", with_metadata=True)`.

Metrics, per site:
- title: exact match (whitespace squashed).
- date: the date part (YYYY-MM-DD) matches; the real pages' truth has no time of day.
- author: equal to the truth, or to one of the names it lists ("未闻Code (author: kingname)"
  accepts either name; "财新 余聪" accepts 余聪); ours may name it as the author or as the
  account (`extra.account`, WeChat's publishing account), plain trafilatura only as the author.
- body: for fixtures, the full body is known: character-level F1 of the bags of characters
  (whitespace ignored). For real pages the truth holds only the first and last sentence and an
  estimate of the length, so the score is a PROXY, marked "~": the share of those two sentences
  found in the text (whitespace ignored) times min(len, estimate) / max(len, estimate), len
  counting whitespace runs as one space.
- first/last: the truth's first and last sentence both found in the text (real pages).
- length: the text's length within 0.85-1.25 of the truth's estimate (real pages).
Non-article pages (expired link, deleted post, account listing) only count in the page-state
table. Fixtures whose body is an API answer (`"response": true`) read `<slug>.response`.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import trafilatura  # noqa: E402

from crawler.extractors import extract  # noqa: E402

SHARED = REPO.parent / "shared" / "pages"
FIXTURES = REPO / "tests" / "fixtures" / "pages"
ARTICLE_KINDS = ("article", "paywall_truncated", "api_atom")
DEFAULT_URLS = {
    "wechat": "https://mp.weixin.qq.com/s/saved-page",
    "arxiv": "https://arxiv.org/abs/saved-page",
    "other": "https://news.example.com/saved-page.html",
}


@dataclass
class Case:
    """One page with its truth."""

    site: str
    url: str
    body: bytes
    content_type: str | None
    title: str | None
    published: str | None
    author: str | None
    first: str | None = None
    last: str | None = None
    length: int | None = None
    full_body: str | None = None  # fixtures only
    real: bool = False
    status: str | None = None  # expected page state
    reason: str | None = None


@dataclass
class Scores:
    """Match counts of one site for one extractor."""

    title: list[bool] = field(default_factory=list)
    date: list[bool] = field(default_factory=list)
    author: list[bool] = field(default_factory=list)
    body: list[float] = field(default_factory=list)
    sentences: list[bool] = field(default_factory=list)
    length: list[bool] = field(default_factory=list)
    proxy: bool = False


def squash(text: str | None) -> str:
    return " ".join((text or "").split())


def flat(text: str | None) -> str:
    return "".join((text or "").split())


def author_names(truth: str) -> set[str]:
    """The truth field and each name it lists."""
    names = {squash(truth)}
    for part in re.split(r"[/／()（）,，]|author:|articles by|shared from", truth):
        part = squash(part)
        if part:
            names.add(part)
            if re.search(r"[\u4e00-\u9fff]", part):
                names.update(part.split())
    return names


def char_f1(text: str, truth: str) -> float:
    """F1 of the bags of (non-space) characters."""
    ours, ref = Counter(flat(text)), Counter(flat(truth))
    overlap = sum((ours & ref).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(ours.values()), overlap / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def body_score(case: Case, text: str) -> float:
    if case.full_body is not None:
        return char_f1(text, case.full_body)
    found = [flat(s) in flat(text) for s in (case.first, case.last) if s]
    if not found or not case.length:
        return 0.0
    length = len(squash(text))  # the estimates count spaces between words
    ratio = min(length, case.length) / max(length, case.length) if length else 0.0
    return sum(found) / len(found) * ratio


def real_cases() -> list[Case]:
    truth = SHARED / "TRUTH.jsonl"
    if not truth.is_file():
        print(f"(real pages not found at {SHARED}: fixtures only)\n")
        return []
    cases = []
    for line in truth.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        folder = row["file"].split("/")[0]
        kind = row["kind"]
        status = {"expired": "gone", "gone": "gone", "listing": "failed"}.get(kind, "archived")
        cases.append(
            Case(
                site=f"{folder} (real)",
                url=row["url"] or DEFAULT_URLS[folder],
                body=(SHARED / row["file"]).read_bytes(),
                content_type=None,
                title=row["title"] if kind in ARTICLE_KINDS else None,
                published=row["published"],
                author=row["author_or_account"],
                first=row["body_first_sentence"],
                last=row["body_last_sentence"],
                length=row["body_chars_estimate"],
                status=status,
                real=True,
            )
        )
    return cases


def fixture_cases() -> list[Case]:
    cases = []
    for path in sorted(FIXTURES.glob("*/*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        expected = spec["expected"]
        article = expected["status"] == "archived"
        cases.append(
            Case(
                site=f"{path.parent.name} (fixture)",
                url=spec["url"],
                body=path.with_suffix(
                    ".response" if spec.get("response") else ".html"
                ).read_bytes(),
                content_type=spec.get("content_type"),
                title=expected.get("title") if article else None,
                published=expected.get("published"),
                author=expected.get("author"),
                full_body=spec.get("body") if article else None,
                status=expected["status"],
                reason=expected.get("reason"),
            )
        )
    return cases


def plain(case: Case) -> dict[str, Any]:
    """Plain trafilatura's reading: title, date, author, text."""
    try:
        out = trafilatura.extract(case.body, url=case.url, output_format="json", with_metadata=True)
    except Exception:  # plain trafilatura has no never-raise contract
        out = None
    data = json.loads(out) if out else {}
    return {
        "title": data.get("title"),
        "published": data.get("date"),
        "author": data.get("author"),
        "account": None,
        "text": data.get("text") or "",
    }


def ours(case: Case) -> tuple[dict[str, Any], Any]:
    result = extract(case.url, case.body, case.content_type)
    fields = {
        "title": result.title,
        "published": result.published,
        "author": result.author,
        "account": result.extra.get("account"),
        "text": result.text,
    }
    return fields, result


def score(case: Case, got: dict[str, Any], into: Scores) -> None:
    if case.title:
        into.title.append(squash(got["title"]) == squash(case.title))
    if case.published and case.title:
        into.date.append((got["published"] or "")[:10] == case.published[:10])
    if case.author and case.title:
        names = author_names(case.author)
        into.author.append(squash(got["author"]) in names or squash(got["account"]) in names)
    if case.full_body is not None or case.first:
        into.body.append(body_score(case, got["text"]))
        into.proxy = into.proxy or case.full_body is None
    if case.real and case.first and case.length:
        text = flat(got["text"])
        into.sentences.append(all(flat(s) in text for s in (case.first, case.last) if s))
        length = len(squash(got["text"]))
        into.length.append(0.85 * case.length <= length <= 1.25 * case.length)


def rate(values: list[bool] | list[float]) -> str:
    return f"{100 * sum(values) / len(values):.0f}%" if values else "–"


def main() -> int:
    cases = real_cases() + fixture_cases()
    table: dict[str, dict[str, Scores]] = defaultdict(lambda: {"ours": Scores(), "plain": Scores()})
    counts: Counter[str] = Counter()
    states: list[tuple[str, str, str, str]] = []
    for case in cases:
        mine, result = ours(case)
        if case.title:
            counts[case.site] += 1
            score(case, mine, table[case.site]["ours"])
            score(case, plain(case), table[case.site]["plain"])
        if case.status:
            ok = result.status == case.status and (not case.reason or result.reason == case.reason)
            states.append((case.site, case.status, result.status, "yes" if ok else "NO"))

    print("## Extraction quality: ours / plain trafilatura\n")
    print("| site | pages | title | date | author | first/last | length | body |")
    print("|---|---|---|---|---|---|---|---|")
    totals = {"ours": Scores(), "plain": Scores()}
    for site in sorted(table):
        row = table[site]
        for name in ("ours", "plain"):
            for metric in ("title", "date", "author", "sentences", "length", "body"):
                getattr(totals[name], metric).extend(getattr(row[name], metric))
        proxy = "~" if row["ours"].proxy else ""
        cells = [
            f"{rate(getattr(row['ours'], m))} / {rate(getattr(row['plain'], m))}"
            for m in ("title", "date", "author", "sentences", "length")
        ]
        body = f"{proxy}{rate(row['ours'].body)} / {proxy}{rate(row['plain'].body)}"
        print(f"| {site} | {counts[site]} | {' | '.join(cells)} | {body} |")
    cells = [
        f"{rate(getattr(totals['ours'], m))} / {rate(getattr(totals['plain'], m))}"
        for m in ("title", "date", "author", "sentences", "length", "body")
    ]
    print(f"| **all** | {sum(counts.values())} | {' | '.join(cells)} |")
    print(
        "\nbody: character-level F1 on fixtures; ~ marks the real-page proxy (first and last"
        " sentence found x length ratio), see the module docstring.\n"
    )

    agree = sum(1 for *_, ok in states if ok == "yes")
    print(f"## Page states (ours): {agree}/{len(states)} as expected\n")
    print("| site | expected | got | ok |")
    print("|---|---|---|---|")
    by_site: dict[tuple[str, str, str, str], int] = Counter(states)
    for (site, want, got, ok), n in sorted(by_site.items()):
        print(f"| {site} | {want} | {got} | {ok}{f' (x{n})' if n > 1 else ''} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
