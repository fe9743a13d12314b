"""Digests in the "AI 日报" format citing the site's pages: ~50 links each, some pages twice."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

from bench import text

LINKS_PER_DIGEST = 50
#: Share of pages that more than one digest cites (a second and maybe a third time).
MULTI_CITED_SHARE = 0.15
#: Share of headline entries whose body cites a further page as a related link.
RELATED_SHARE = 0.1
SECTIONS = ("模型与研究", "产品与应用", "产业动态", "开源项目", "观点与访谈")


@dataclass(frozen=True)
class Cite:
    """One link a digest cites and the title it shows."""

    url: str
    title: str


def plan(
    cites: list[Cite],
    rng: random.Random,
    per_digest: int = LINKS_PER_DIGEST,
    multi_share: float = MULTI_CITED_SHARE,
) -> list[list[Cite]]:
    """Spread the cites over digests in order; a share is cited again by another digest."""
    extra = [c for c in cites if rng.random() < multi_share]
    extra += [c for c in extra if rng.random() < 0.3]  # a few three times
    count = max(1, -(-(len(cites) + len(extra)) // per_digest))
    digests: list[list[Cite]] = [[] for _ in range(count)]
    holders: dict[Cite, set[int]] = {}
    for i, cite in enumerate(cites):
        index = i * count // max(1, len(cites))
        digests[index].append(cite)
        holders.setdefault(cite, set()).add(index)
    for cite in extra:
        if len(holders[cite]) >= count:
            continue
        index = rng.randrange(count)
        while index in holders[cite]:
            index = rng.randrange(count)
        digests[index].append(cite)
        holders[cite].add(index)
    for digest in digests:
        rng.shuffle(digest)
    return digests


def render(cites: list[Cite], day: dt.date, rng: random.Random) -> str:
    """One digest: front matter, `## ` sections of `### [title](url)` entries, `## 更多动态`."""
    heads = cites[: int(len(cites) * 0.6)]
    quick = cites[len(heads) :]
    lead = heads[0].title if heads else "今日要闻"
    out = [
        "---",
        f"title: AI 日报：{lead}",
        f"date: {day.isoformat()}",
        "category: AI 日报",
        'tags: ["AI","AI 日报"]',
        "---",
        f"# AI 日报：{lead}",
        "",
    ]
    per_section = max(1, -(-len(heads) // len(SECTIONS)))
    i = 0
    while i < len(heads):
        out += [f"## {SECTIONS[(i // per_section) % len(SECTIONS)]}", ""]
        for cite in heads[i : i + per_section]:
            out += [f"### [{cite.title}]({cite.url})", "", text.summary(rng), ""]
            if quick and rng.random() < RELATED_SHARE:
                related = quick.pop()
                out += [f"相关报道见 [{related.title}]({related.url})。", ""]
            out += ["**深度解读 & 洞察：**", f"{rng.choice(text.VIEWS)}。", ""]
        i += per_section
    if quick:
        out += ["## 更多动态", ""]
        out += [f"- [{c.title}]({c.url})，{text.sentence(rng)}" for c in quick]
        out.append("")
    out += [
        "---",
        "",
        '<div class="telegram-card">欢迎加入 <a href="https://t.me/example_news">'
        "@example_news</a>，抢先获取更新。</div>",
        "",
    ]
    return "\n".join(out)


def write(
    folder: Path, prefix: str, groups: list[list[Cite]], first_day: dt.date, rng: random.Random
) -> list[Path]:
    """Write one digest file per group, named `<prefix>-<date>.md`, one day apart."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, group in enumerate(groups):
        day = first_day + dt.timedelta(days=i)
        path = folder / f"{prefix}-{day.isoformat()}.md"
        path.write_text(render(group, day, rng), encoding="utf-8")
        paths.append(path)
    return paths
