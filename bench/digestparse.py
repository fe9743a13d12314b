"""Digest parsing time against digest size: seconds per shape for 1k, 10k and 60k links.

Standalone (`.venv/bin/python bench/digestparse.py [--sizes 1000,10000,60000] [--shapes ...]`):
it generates each hostile shape in memory, parses it once with `crawler.digests.parse_digest`
and prints one row per shape and size with the seconds it took and the entries and links it
found. Linear parsing shows as seconds growing with size (60k taking ~60x as long as 1k); a
quadratic step shows as seconds growing with its square. A size is skipped once a smaller size
of the same shape took longer than `--give-up` seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from crawler.digests import parse_digest


def paragraph(n: int) -> str:
    """One paragraph of n lines, each citing a bare URL: one entry of n links."""
    return "# 日报\n\n" + "\n".join(f"见 https://p{k}.example.com/a/{k}" for k in range(n)) + "\n"


def one_line(n: int) -> str:
    """One line of n bare URLs separated by spaces."""
    return "# 日报\n\n" + " ".join(f"https://l{k}.example.com/{k}" for k in range(n)) + "\n"


def pairs(n: int) -> str:
    """One line of n `[a](url)` links."""
    return "# 日报\n\n" + " ".join(f"[a{k}](https://x.example.com/{k})" for k in range(n)) + "\n"


def quick_list(n: int) -> str:
    """A list of n `- [title](url)，summary` items under one section: n entries."""
    items = "\n".join(f"- [新闻 {k}](https://q.example.com/{k})，摘要" for k in range(n))
    return f"# 日报\n\n## 更多动态\n\n{items}\n"


def headings(n: int) -> str:
    """n `### [title](url)` entries with a related link each (2n links)."""
    body = "".join(
        f"### [标题 {k}](https://h.example.com/{k})\n正文 https://r.example.com/{k}\n\n"
        for k in range(n)
    )
    return f"# 日报\n\n## 栏目\n\n{body}"


def hangye(n: int) -> str:
    """n/10 `## ` entries of 10 来源 links each, one more link in each body."""
    per = 10
    body = "".join(
        f"## 条目 {k}\n> **分类：** 动态\n> **来源：** "
        + " 、 ".join(f"[源{j}](https://s.example.com/{k}/{j})" for j in range(per))
        + f"\n\n正文 https://b.example.com/{k}\n\n"
        for k in range(max(1, n // per))
    )
    return f"# 🤖 AI行业速递 - 2026年03月02日\n\n{body}"


def nested(n: int) -> str:
    """One line of n nested brackets around a link text, `[[[...x...]]](url)`."""
    return "# 日报\n\n" + "[" * n + "x" + "]" * n + "(https://n.example.com/)\n"


def nested_links(n: int) -> str:
    """One line of n links nested in each other's text, `[[[a](u0)](u1)](u2)`."""
    text = "a"
    for k in range(n):
        text = f"[{text}](https://m.example.com/{k})"
    return "# 日报\n\n" + text + "\n"


def labelled_item(n: int) -> str:
    """One entry whose `- **label**: ...` list item cites n bare URLs."""
    urls = " ".join(f"https://i.example.com/{k}" for k in range(n))
    return f"# 日报\n\n## 条目\n> **来源：** [源](https://s.example.com/)\n\n- **资源**: {urls}\n"


def fences(n: int) -> str:
    """n/2 fence openers with an info string, then n/2 closers too short for them, then a link."""
    half = max(1, n // 2)
    return "# 日报\n\n" + "```` x\n" * half + "```\n" * half + "- https://f.example.com/\n"


def quotes(n: int) -> str:
    """One line of n quote markers before a link."""
    return "# 日报\n\n" + "> " * n + "[a](https://g.example.com/)\n"


def open_anchors(n: int) -> str:
    """One line of n `<a href>` tags that are never closed."""
    return "# 日报\n\n" + "".join(f"<a href=https://a.example.com/{k}>" for k in range(n)) + "\n"


def open_comments(n: int) -> str:
    """One line of n HTML comment openers that are never closed, then a link."""
    return "# 日报\n\n- x " + "<!--" * n + " https://c.example.com/\n"


SHAPES: dict[str, Callable[[int], str]] = {
    "paragraph": paragraph,
    "one_line": one_line,
    "pairs": pairs,
    "quick_list": quick_list,
    "headings": headings,
    "hangye": hangye,
    "nested": nested,
    "nested_links": nested_links,
    "labelled_item": labelled_item,
    "fences": fences,
    "quotes": quotes,
    "open_anchors": open_anchors,
    "open_comments": open_comments,
}


def main() -> None:
    """Print seconds, entries and links per shape and size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,60000")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--give-up", type=float, default=60.0)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'shape':<14}{'size':>8}{'KB':>8}{'seconds':>10}{'entries':>9}{'links':>8}")
    for name in args.shapes.split(","):
        make = SHAPES[name]
        for size in sizes:
            data = make(size).encode()
            start = time.perf_counter()
            digest = parse_digest(data, f"{name}-{size}.md")
            took = time.perf_counter() - start
            links = sum(len(e.links) for e in digest.entries)
            print(
                f"{name:<14}{size:>8}{len(data) // 1024:>8}{took:>10.3f}"
                f"{len(digest.entries):>9}{links:>8}",
                flush=True,
            )
            if took > args.give_up:
                print(f"{name:<14}{'(larger sizes skipped)':>30}", flush=True)
                break


if __name__ == "__main__":
    main()
