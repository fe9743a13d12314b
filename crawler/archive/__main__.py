"""`python -m crawler.archive COMMAND [ARCHIVE_DIR]`: read and check an archive."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

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
    rows = citations(
        _root(args.archive),
        with_text=args.text,
        on_damaged=told,
        filters=_citation_filters(args),
    )
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    if damaged:
        print(
            f"citations incomplete: {len(damaged)} damaged record(s); "
            "`python -m crawler.archive repair` rebuilds what it can",
            file=sys.stderr,
        )
    return 1 if damaged else 0


def _words(values: list[str] | None) -> list[str]:
    """Values given as repeated options or comma-separated, in order, once each."""
    return list(
        dict.fromkeys(v.strip() for raw in values or [] for v in raw.split(",") if v.strip())
    )


def _citation_filters(args: argparse.Namespace) -> Any:
    """The `citations` filters given (None when none is), checked: SystemExit(2) if bad."""
    from crawler.archive.reader import Filters, run_finished
    from crawler.archive.search import SearchError, check_day
    from crawler.items import Status
    from crawler.urls import InvalidURL, canonicalize

    given = [args.digest, args.url, args.status, args.site, args.since, args.until, args.new_since]
    if not any(given):
        return None
    root = _root(args.archive)
    try:
        url = canonicalize(args.url) if args.url else None
        statuses = _words(args.status)
        unknown = [s for s in statuses if s not in {str(v) for v in Status}]
        if unknown:
            raise ValueError(f"unknown status {unknown[0]!r}; one of {', '.join(Status)}")
        digests = _words(args.digest)
        for digest_id in digests:
            if not layout.digest_path(root, digest_id).is_file():
                raise ValueError(f"archive {root} holds no digest {digest_id!r}")
        return Filters(
            digests=digests,
            url=url,
            statuses=statuses,
            sites=[s.lower() for s in _words(args.site)],
            since=check_day(args.since, "--since"),
            until=check_day(args.until, "--until"),
            new_since=run_finished(root, args.new_since) if args.new_since else None,
        )
    except InvalidURL as exc:
        raise SystemExit(f"error: --url {args.url!r}: {exc}") from None
    except (ValueError, SearchError) as exc:
        raise SystemExit(f"error: {exc}") from None


def cmd_search(args: argparse.Namespace) -> int:
    """Ranked articles (and entries whose sources are not archived) matching a query."""
    from crawler.archive.search import SearchError, SearchIndex, dumps

    index = SearchIndex(_root(args.archive))
    try:
        if not args.no_refresh:
            index.refresh(wait=True)
        hits, more = index.search(
            args.query,
            sites=_words(args.site),
            since=args.since,
            statuses=_words(args.status),
            limit=args.limit,
            offset=args.offset,
        )
    except SearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error) as exc:
        print(f"error: the search index {index.path} cannot be used: {exc}", file=sys.stderr)
        return 1
    out = sys.stdout
    for rank, hit in enumerate(hits, args.offset + 1):
        if args.json:
            out.write(dumps(hit) + "\n")
            continue
        status = ", ".join(hit.statuses)
        meta = " · ".join(str(v) for v in (hit.site or hit.host, hit.author, hit.published) if v)
        kind = "" if hit.kind == "article" else " (digest entry; its sources are not archived)"
        out.write(f"{rank}. {hit.title or hit.url} [{status}]{kind}\n")
        if meta:
            out.write(f"   {meta}\n")
        if hit.url:
            out.write(f"   {hit.url}\n")
        if hit.snippet:
            out.write(f"   {hit.snippet_text()}\n")
        for cite in hit.entries[:5]:
            out.write(
                f"   cited by {cite['digest']} #{cite['entry']}: {cite['entry_title'] or ''}\n"
            )
        if len(hit.entries) > 5:
            out.write(f"   ... and {len(hit.entries) - 5} more entries\n")
    if not args.json:
        if not hits:
            out.write("no results\n")
        elif more:
            out.write(f"more results: --offset {args.offset + len(hits)}\n")
    return 0


def cmd_articles(args: argparse.Namespace) -> int:
    """One record per article: metadata, citing entries, text (JSON lines or markdown)."""
    from crawler.archive import export

    root = _root(args.archive)
    out_dir = Path(args.out) if args.out else None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    try:
        records_ = export.articles(root, digest_ids=_words(args.digest), with_text=not args.no_text)
        for record in records_:
            if args.format == "markdown":
                marks = export.structure(root, record.get("original"))
                text = export.markdown(record, marks)
            else:
                text = json.dumps(record, ensure_ascii=False) + "\n"
            if out_dir is None:
                sys.stdout.write(text if args.format != "markdown" else text + "\n")
            else:
                suffix = ".md" if args.format == "markdown" else ".json"
                (out_dir / f"{record['id']}{suffix}").write_text(text, encoding="utf-8")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Each entry's summary against its archived sources: share found, details not found."""
    from crawler.archive import check

    root = _root(args.archive)
    try:
        results = check.check(root, _words(args.digest))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = sys.stdout
    if args.json:
        for result in results:
            out.write(json.dumps(result.as_dict(), ensure_ascii=False) + "\n")
        return 0
    from crawler.items import Check

    for result in results:
        if not result.findings and not args.all:
            continue
        share = result.share
        figure = (
            f"{result.found} of {result.checked} details found ({share:.0%})"
            if share is not None
            else f"{len(result.findings)} details, no source text"
        )
        flag = "  MATCHES NOTHING" if result.matches_nothing else ""
        out.write(f"{result.digest} #{result.position} {result.title}: {figure}{flag}\n")
        missing = [f for f in result.findings if f.verdict == Check.NOT_FOUND]
        if missing:
            names = dict.fromkeys(f.detail.text for f in missing)
            out.write("  not found: " + ", ".join(names) + "\n")
        if share is None and result.findings:
            statuses = sorted({s.status for s in result.sources})
            out.write(f"  sources: {', '.join(statuses)}\n")
    totals = check.totals(results)
    out.write(
        f"{totals['entries']} entries, {totals['details']} details: {totals[Check.FOUND]} found, "
        f"{totals[Check.NOT_FOUND]} not found, {totals[Check.NO_SOURCE_TEXT]} without source "
        f"text; {totals['entries_matching_nothing']} entries match nothing in their sources\n"
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """The web reader: read-only, server-rendered, on loopback unless told otherwise."""
    from crawler.archive.web import serve

    return serve(_root(args.archive), host=args.host, port=args.port, pywb=args.pywb)


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
    from crawler.archive.search import SearchIndex

    search = SearchIndex(_root(args.archive)).rebuild()
    print(json.dumps({**counts, "search": search}))
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
    p.add_argument("--digest", action="append", metavar="ID", help="only these digests")
    p.add_argument("--url", help="only this URL (any spelling: it is canonicalized first)")
    p.add_argument("--status", action="append", help="only links in these statuses")
    p.add_argument("--site", action="append", help="only these hosts (subdomains too) or sites")
    p.add_argument("--since", metavar="DATE", help="digests dated on or after YYYY-MM-DD")
    p.add_argument("--until", metavar="DATE", help="digests dated on or before YYYY-MM-DD")
    p.add_argument(
        "--new-since",
        metavar="RUN",
        help="rows new since run RUN finished (runs/RUN.json): digests read, or links fetched, "
        "after it",
    )
    p.set_defaults(func=cmd_citations)
    p = sub.add_parser(
        "search",
        help="full-text search: ranked articles with a snippet",
        # 2,000 is search.RANK_AT_MOST (a test holds them together): importing search here
        # would add its start-up to every command.
        description="Ranked articles (and entries whose sources are not archived) matching "
        "every term. Of more than 2,000 matches the most recently cited 2,000 are ranked: "
        "--since and --site reach older ones.",
    )
    p.add_argument("query", help='words and "quoted phrases", all required')
    p.add_argument("archive", nargs="?", default="archive")
    p.add_argument("--site", action="append", help="only these hosts (subdomains too) or sites")
    p.add_argument("--since", metavar="DATE", help="cited by a digest dated on or after it")
    p.add_argument("--status", action="append", help="only links in these statuses")
    p.add_argument("--limit", type=int, default=20, help="results (default 20)")
    p.add_argument("--offset", type=int, default=0, help="results to skip")
    p.add_argument("--json", action="store_true", help="one JSON line per result")
    p.add_argument("--no-refresh", action="store_true", help="do not take in new records first")
    p.set_defaults(func=cmd_search)
    p = sub.add_parser("articles", help="one record per article: metadata, citing entries, text")
    p.add_argument("archive", nargs="?", default="archive")
    p.add_argument("--format", choices=("jsonl", "markdown"), default="jsonl")
    p.add_argument("--digest", action="append", metavar="ID", help="only articles these cite")
    p.add_argument("--out", metavar="DIR", help="one file per article in DIR (<id>.json/.md)")
    p.add_argument("--no-text", action="store_true", help="leave the text out")
    p.set_defaults(func=cmd_articles)
    p = sub.add_parser("check", help="each entry's summary against its archived sources")
    p.add_argument("archive", nargs="?", default="archive")
    p.add_argument("--digest", action="append", metavar="ID", help="only these digests")
    p.add_argument("--json", action="store_true", help="one JSON line per entry, with findings")
    p.add_argument("--all", action="store_true", help="also entries without checkable details")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("serve", help="the web reader (read-only; loopback by default)")
    p.add_argument("archive", nargs="?", default="archive")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (8000; 0: any free port)")
    p.add_argument("--pywb", metavar="URL", help="a running pywb collection to link originals to")
    p.set_defaults(func=cmd_serve)
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
