"""`python -m crawler.archive COMMAND [ARCHIVE_DIR]`: read and check an archive."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from crawler.archive import layout


def _root(value: str) -> Path:
    root = Path(value)
    if not (root / layout.MANIFEST).is_file():
        raise SystemExit(f"error: {root} is not a sources archive (no {layout.MANIFEST})")
    return root


def _tell(path: Path, why: str) -> None:
    """Name a damaged record on stderr."""
    print(f"damaged: {path}: {why}", file=sys.stderr)


def cmd_citations(args: argparse.Namespace) -> int:
    """Print the rows; exit 1 when a damaged record left the output incomplete."""
    from crawler.archive.reader import citations

    damaged: list[Path] = []

    def told(path: Path, why: str) -> None:
        damaged.append(path)
        _tell(path, why)

    out = sys.stdout
    for row in citations(_root(args.archive), with_text=args.text, on_damaged=told):
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    if damaged:
        print(
            f"citations incomplete: {len(damaged)} damaged record(s); "
            "`python -m crawler.archive repair` rebuilds what it can",
            file=sys.stderr,
        )
    return 1 if damaged else 0


def cmd_reindex(args: argparse.Namespace) -> int:
    """Rebuild the index; exit 1 when damaged records had to be left out."""
    from crawler.archive.store import Archive

    archive = Archive(_root(args.archive))
    archive.open()
    try:
        counts = archive.reindex()
    finally:
        archive.close()
    for line in archive.damaged:
        print(f"damaged: {line}", file=sys.stderr)
    print(json.dumps(counts))
    return 1 if counts.get("damaged") else 0


def cmd_repair(args: argparse.Namespace) -> int:
    """Say what is damaged and what repair does about it; with --apply, do it."""
    from crawler.archive import repair
    from crawler.archive.store import Archive

    root = _root(args.archive)
    plan = repair.survey(root)
    if plan.empty:
        print("nothing to repair")
        return 0
    for line in plan.lines:
        print(line)
    if not args.apply:
        print(f"{len(plan.lines)} thing(s) to repair; run again with --apply to repair them")
        return 1
    archive = Archive(root).open()
    try:
        done = repair.apply(archive, plan)
    finally:
        archive.close()
    for line in done:
        print(line)
    left = [line for line in done if "could not" in line]
    print(f"repaired; {len(left)} thing(s) could not be rebuilt" if left else "repaired")
    return 1 if left else 0


def cmd_forget(args: argparse.Namespace) -> int:
    """Take digests out of the archive; recorded in runs/ (unless --dry-run)."""
    import os
    import time

    from crawler.archive import records
    from crawler.archive.lock import ArchiveError
    from crawler.archive.store import Archive

    started = time.time()
    archive = Archive(_root(args.archive))
    try:
        archive.open()
    except ArchiveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        counts = archive.forget(args.digests, prune=args.prune, dry_run=args.dry_run)
        if not args.dry_run:
            run = records.run_id(started, os.getpid())
            archive.write_run_report(
                run,
                records.forget_report(
                    run, started, time.time(), list(args.digests), counts, pruned=args.prune
                ),
            )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        archive.close()
    print(json.dumps({"dry_run": args.dry_run, **counts}))
    return 0


def cmd_rot(args: argparse.Namespace) -> int:
    """Per site: links cited, re-checked, still there, changed, gone, unreachable."""
    from crawler.archive import rot

    rows = rot.table(_root(args.archive))
    (rot.write_json if args.json else rot.write_table)(rows, sys.stdout)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from crawler.archive.verify import verify

    problems = 0
    for problem in verify(_root(args.archive)):
        problems += 1
        print(problem)
    print(f"{problems} problem(s) found" if problems else "archive is sound")
    return 1 if problems else 0


def cmd_wacz(args: argparse.Namespace) -> int:
    from crawler.archive.wacz import WaczError, parse_since, write_wacz

    try:
        since = parse_since(args.since) if args.since else None
        counts = write_wacz(
            _root(args.archive), Path(args.output), digests=args.digest or [], since=since
        )
    except WaczError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(json.dumps(counts, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.archive", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("citations", help="one JSON line per (digest entry, link) pair")
    p.add_argument("archive", nargs="?", default="archive")
    p.add_argument("--text", action="store_true", help="include the extracted text")
    p.set_defaults(func=cmd_citations)
    p = sub.add_parser("reindex", help="rebuild index.sqlite3 from the files alone")
    p.add_argument("archive", nargs="?", default="archive")
    p.set_defaults(func=cmd_reindex)
    p = sub.add_parser(
        "forget",
        help="take digests out (their citations; links and articles nothing else cites are "
        "marked unreferenced, or deleted with --prune); refused while a crawl runs",
    )
    p.add_argument("digests", nargs="+", metavar="DIGEST_ID", help="ids as in digests/<id>.json")
    p.add_argument("--archive", default="archive", help="the archive (default: archive)")
    p.add_argument("--dry-run", action="store_true", help="say what it would do; change nothing")
    p.add_argument("--prune", action="store_true", help="delete what nothing cites any more")
    p.set_defaults(func=cmd_forget)
    p = sub.add_parser(
        "rot",
        help="per site: links cited, re-checked, still there, changed, gone, unreachable, "
        "median days from citation to the first observed absence",
    )
    p.add_argument("archive", nargs="?", default="archive")
    p.add_argument("--json", action="store_true", help="one JSON line per site")
    p.set_defaults(func=cmd_rot)
    p = sub.add_parser("verify", help="check every WARC record, JSON file and link-back")
    p.add_argument("archive", nargs="?", default="archive")
    p.set_defaults(func=cmd_verify)
    p = sub.add_parser("wacz", help="write a WACZ 1.1 package (all of it, or some digests)")
    p.add_argument("archive", nargs="?", default="archive")
    p.add_argument("-o", "--output", required=True, help="the .wacz file to write")
    p.add_argument(
        "--digest", action="append", metavar="ID", help="only this digest's records (repeatable)"
    )
    p.add_argument("--since", metavar="DATE", help="only digests read and links fetched since DATE")
    p.set_defaults(func=cmd_wacz)
    p = sub.add_parser(
        "repair", help="quarantine damaged records and rebuild them (a dry run without --apply)"
    )
    p.add_argument("archive", nargs="?", default="archive")
    p.add_argument("--apply", action="store_true", help="repair, rather than say what it would do")
    p.set_defaults(func=cmd_repair)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
