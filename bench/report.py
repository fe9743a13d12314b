"""Medians of repeated runs, the results tables (markdown) and the summary JSON."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from bench.scenarios import Result

MB = 1024 * 1024


@dataclass
class Row:
    """The median of several runs of one scenario."""

    name: str
    runs: int
    pages: int
    pages_per_s: float
    cpu_ms_per_page: float
    peak_rss_mb: float
    peak_pss_mb: float
    bytes_per_page: float | None
    wall_s: float
    spread_pct: float  # (max - min) / median of the rate (or of the wall time when no rate)
    site_cpu_ms_per_page: float | None
    main_cpu_ms_per_page: float | None  # of which the crawl's own process (not its pool)
    foreign_cpu_pct: float  # CPU of processes other than the run and the site, % of one core
    problems: list[str]


def _spread(values: list[float]) -> float:
    mid = statistics.median(values)
    return 100 * (max(values) - min(values)) / mid if mid else 0.0


def foreign_cpu_pct(result: Result) -> float:
    """CPU the machine spent on neither the measured tree nor the site, in % of one core.

    Other people's processes on a shared machine, plus this harness's own sampling.
    """
    outside = result.usage.machine_cpu - result.usage.cpu - result.info.get("site_cpu_s", 0.0)
    return max(0.0, 100 * outside / result.usage.wall) if result.usage.wall else 0.0


def row(name: str, results: list[Result]) -> Row:
    """Medians over `results` (each figure on its own)."""
    med = statistics.median
    rates = [r.pages_per_s for r in results]
    walls = [r.usage.wall for r in results]
    stored = [r.out_bytes / r.pages for r in results if r.out_bytes is not None]
    site = [1000 * r.info["site_cpu_s"] / r.pages for r in results if "site_cpu_s" in r.info]
    return Row(
        name=name,
        runs=len(results),
        pages=results[0].pages,
        pages_per_s=med(rates),
        cpu_ms_per_page=med([r.cpu_ms_per_page for r in results]),
        peak_rss_mb=med([r.usage.peak_rss / MB for r in results]),
        peak_pss_mb=med([r.usage.peak_pss / MB for r in results]),
        bytes_per_page=med(stored) if stored else None,
        wall_s=med(walls),
        spread_pct=_spread(rates if results[0].pages > 1 else walls),
        site_cpu_ms_per_page=med(site) if site else None,
        main_cpu_ms_per_page=None
        if results[0].main_cpu is None
        else med([1000 * (r.main_cpu or 0.0) / r.pages for r in results]),
        foreign_cpu_pct=med([foreign_cpu_pct(r) for r in results]),
        problems=[p for r in results for p in r.problems],
    )


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _kb(value: float | None) -> str:
    return "–" if value is None else f"{value / 1024:,.1f} KB"


def throughput_table(rows: list[Row]) -> str:
    """Pages/s, CPU, memory and storage per scenario, as a markdown table."""
    lines = [
        "| run | pages | pages/s | CPU ms/page | in crawl process | peak RSS (tree) "
        "| peak PSS (tree) | stored/page | wall s | spread | runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.pages} | {r.pages_per_s:.1f} | {r.cpu_ms_per_page:.1f} "
            f"| {_num(r.main_cpu_ms_per_page)} | {r.peak_rss_mb:.0f} MB | {r.peak_pss_mb:.0f} MB "
            f"| {_kb(r.bytes_per_page)} "
            f"| {r.wall_s:.1f} | {r.spread_pct:.0f}% | {r.runs} |"
        )
    return "\n".join(lines)


def nightly_table(rows: list[Row], startup_s: float) -> str:
    """Wall time of no-op runs, and beyond Scrapy's own start-up, as a markdown table."""
    lines = [
        "| run | wall s | beyond start-up s | CPU s | peak RSS (tree) | spread | runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        beyond = "–" if r.name == "scrapy start-up" else f"{r.wall_s - startup_s:.2f}"
        lines.append(
            f"| {r.name} | {r.wall_s:.2f} | {beyond} | {r.cpu_ms_per_page * r.pages / 1000:.2f} "
            f"| {r.peak_rss_mb:.0f} MB | {r.spread_pct:.0f}% | {r.runs} |"
        )
    return "\n".join(lines)


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def per_repetition(ours: list[Result], base: list[Result]) -> list[float]:
    """ours/baseline pages/s within each repetition (runs next to each other in time)."""
    return [
        round(o.pages_per_s / b.pages_per_s, 3)
        for o, b in zip(ours, base, strict=False)
        if b.pages_per_s
    ]


def summary(rows: dict[str, Row], nightly: dict[str, Row], meta: dict[str, Any]) -> dict[str, Any]:
    """The JSON summary: ratios, no-op times, targets."""
    ours, base = rows["ours"], rows["baseline"]
    ceil, fetch = rows["ceiling"], rows["fetch alone"]
    startup = nightly["scrapy start-up"].wall_s
    noop = {key: r.wall_s for key, r in nightly.items() if key.startswith("new@")}
    out: dict[str, Any] = {
        **meta,
        "ours_pages_per_s": round(ours.pages_per_s, 2),
        "baseline_pages_per_s": round(base.pages_per_s, 2),
        "ceiling_pages_per_s": round(ceil.pages_per_s, 2),
        "fetch_pages_per_s": round(fetch.pages_per_s, 2),
        "ours_vs_baseline_throughput": _ratio(ours.pages_per_s, base.pages_per_s),
        "ours_vs_baseline_rss": _ratio(ours.peak_rss_mb, base.peak_rss_mb),
        "ours_vs_baseline_pss": _ratio(ours.peak_pss_mb, base.peak_pss_mb),
        "ours_vs_ceiling": _ratio(ours.pages_per_s, ceil.pages_per_s),
        "requisites_on_pages_per_s": round(rows["ours+requisites"].pages_per_s, 2),
        "requisites_on_vs_off_throughput": _ratio(
            rows["ours+requisites"].pages_per_s, ours.pages_per_s
        ),
        "requisites_on_vs_baseline_rss": _ratio(
            rows["ours+requisites"].peak_rss_mb, base.peak_rss_mb
        ),
        "scrapy_startup_seconds": round(startup, 3),
        "noop_seconds_full": round(nightly["again@full"].wall_s, 3),
        "foreign_cpu_pct_max": round(max(r.foreign_cpu_pct for r in rows.values()), 1),
    }
    for key, seconds in sorted(noop.items(), key=lambda kv: int(kv[0].split("@")[1])):
        size = int(key.split("@")[1])
        label = f"{size // 1000}k" if size % 1000 == 0 else str(size)
        out[f"noop_seconds_{label}"] = round(seconds, 3)
    out.setdefault("noop_seconds_10k", None)
    out.setdefault("noop_seconds_100k", None)
    biggest = max((int(k.split("@")[1]) for k in noop), default=0)
    beyond = noop.get(f"new@{biggest}", 0.0) - startup if biggest else None
    out["targets"] = {
        "throughput_1_5x": (out["ours_vs_baseline_throughput"] or 0) >= 1.5,
        "requisites_off_throughput_2x": (out["ours_vs_baseline_throughput"] or 0) >= 2.0,
        "rss_1_2x": (out["ours_vs_baseline_rss"] or 99) <= 1.2,
        f"noop_{biggest}_under_5s_beyond_startup": beyond is not None and beyond < 5.0,
    }
    out["problems"] = sorted({p for r in [*rows.values(), *nightly.values()] for p in r.problems})
    return out
