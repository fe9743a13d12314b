"""Benchmark entry point: ours vs the plain Scrapy + trafilatura baseline vs the ceiling.

    python bench/run.py            # 2,000 pages, 3 repetitions, archives of 10k and 100k
    python bench/run.py --quick    # 300 pages, 1 repetition, an archive of 2k (< 2 minutes)

Builds (and caches) a loopback site and digests citing it, serves the site from its own
process, measures every scenario, prints the tables, and prints a JSON summary as its last line.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repo, not bench/, on the path

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

from bench import plan, report, scenarios  # noqa: E402

log = logging.getLogger("bench")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options; --quick changes the defaults."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 pages, 1 run, archive of 2k")
    parser.add_argument("--pages", type=int, help="article pages of the site (default 2000)")
    parser.add_argument("--reps", type=int, help="repetitions of each run (default 3)")
    parser.add_argument(
        "--archives",
        help="sizes of the large archives, comma-separated (default 10000,100000; 0 for none)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="where built sites and archives are kept (default: $TMPDIR/sources-bench)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="also profile one crawl of ours with py-spy, into DIR",
    )
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    args.pages = args.pages or (300 if args.quick else 2000)
    args.reps = args.reps or (1 if args.quick else 3)
    sizes = args.archives or ("2000" if args.quick else "10000,100000")
    args.archives = [int(s) for s in sizes.split(",") if int(s) > 0]
    args.cache = args.cache or Path(tempfile.gettempdir()) / "sources-bench"
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its report."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="[bench %(asctime)s] %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    work = Path(tempfile.mkdtemp(prefix="sources-bench-"))
    try:
        outcome = plan.Benchmark(args, work).run()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = report_text(args, outcome)
    sys.stdout.write(text + "\n")
    if args.markdown:
        args.markdown.write_text(text + "\n")
    sys.stdout.write(json.dumps(outcome.summary, ensure_ascii=False) + "\n")
    return 0


def report_text(args: argparse.Namespace, outcome: plan.Outcome) -> str:
    """The human-readable report: settings, both tables, noise, problems."""
    s = outcome.summary
    relaxed = " ".join(f"-s {k}={v}" for k, v in outcome.relaxed.items())
    repeats = (
        f"a run above {plan.DISTURBED_PCT:.0f}% is repeated, {s['repeated_runs']} were"
        if not args.quick
        else "with --quick a disturbed run is flagged, not repeated"
    )
    lines = [
        f"## Benchmark: {args.pages} pages, {args.reps} run(s) each, median shown",
        "",
        f"Machine: {os.cpu_count()} cores; {outcome.machine}. Loopback site served by a "
        f"separate process ({outcome.site_info}).",
        f"Ours: `scrapy crawl sources` with politeness relaxed for loopback: `{relaxed}`; "
        f"EXTRACT_WORKERS={outcome.workers}. Baseline: bench/baseline.py, "
        f"CONCURRENT_REQUESTS={outcome.concurrency} (per domain too).",
        "",
        report.throughput_table(outcome.throughput),
        "",
        "No-op nightly runs (each `new digest` run adds one digest of "
        f"{outcome.fresh} new links; `nothing new` is the same command again):",
        "",
        report.nightly_table(outcome.nightly, s["scrapy_startup_seconds"]),
        "",
        f"Noise: calibration workload CV {outcome.noise['before']['cv_pct']}% before, "
        f"{outcome.noise['after']['cv_pct']}% after; load average "
        f"{outcome.noise['before']['loadavg_1m']} → {outcome.noise['after']['loadavg_1m']}; "
        f"other processes (this machine is shared) used up to {s['foreign_cpu_pct_max']}% of "
        f"one core during the kept runs ({repeats}; {s['waited_for_quiet_s']:.0f} s spent "
        "waiting for quiet before runs); spread = (max − min) / median of the runs.",
        "",
        f"Ratios: ours/baseline pages/s {s['ours_vs_baseline_throughput']}, ours/baseline "
        f"peak RSS {s['ours_vs_baseline_rss']} (PSS {s['ours_vs_baseline_pss']}), "
        f"ours/ceiling {s['ours_vs_ceiling']} (ours with requisites off, "
        f"{' '.join(f'-s {k}={v}' for k, v in scenarios.REQUISITES_OFF.items())}).",
        f"Requisites on (the defaults): {s['requisites_on_pages_per_s']} pages/s, "
        f"{s['requisites_on_vs_off_throughput']} of requisites off, peak RSS "
        f"{s['requisites_on_vs_baseline_rss']} of the baseline's; {s['requisites_fetched']} "
        f"requisites fetched beside the pages, recorded as {s['requisites']}.",
        "Targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in s["targets"].items()),
    ]
    if s["problems"]:
        lines += ["", "Problems:"] + [f"- {p}" for p in s["problems"]]
    if outcome.profile:
        lines += ["", f"Profile of ours: {outcome.profile}"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
