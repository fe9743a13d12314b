"""How well `check` tells what a source says: `python bench/check_quality.py`.

An archive is built (no network) from real saved pages (`../shared/pages`, read by the
project's extractors, stored through the project's own archive code), cited by a digest of
summaries written for this bench (`bench/check_cases/digest.md`: mostly right, with wrong
numbers, names and dates planted as machine-written digests get them wrong, and one summary of
another page). Every detail `check` extracts was read against its page by hand
(`bench/check_cases/truth.json`: true when the page says it). The bench prints each verdict
beside the hand truth and the counts: found and true (right), found and false (must be 0),
not found and true (missed: the page says it in other words), not found and false (a planted
error caught). `--show` prints every detail with its verdict (to label new cases).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PAGES = REPO.parent / "shared" / "pages"
CASES = REPO / "bench" / "check_cases"

#: URL cited in the digest -> saved page (the page's own URL where MANIFEST.tsv gives one).
SOURCES = {
    "https://www.thepaper.cn/newsDetail_forward_1": "other/thepaper_1.html",
    "https://mp.weixin.qq.com/s/gne1": "wechat/wx_gne_1.html",
    "https://mp.weixin.qq.com/s?__biz=MzI2NDk5NzA0Mw==&mid=2248889396&idx=1"
    "&sn=b5a55f448cd7738803901180abb1677f": "wechat/wx_share_img_c01.html",
    "https://www.caixin.com/2023-09-26/102112537.html": "other/caixin_102112537.html",
    "https://news.mydrivers.com/1/725/725506.htm": "other/mydrivers_725506.html",
    "https://arxiv.org/abs/2106.09608v2": "arxiv/arxiv_abs_2106.09608.html",
}


def build(root: Path) -> Path:
    """The archive: the digest, and each cited page fetched from its saved file."""
    from crawler.archive import Archive
    from crawler.digests import parse_digest
    from crawler.extractors import extract
    from crawler.items import FetchOutcome, Status

    archive = Archive(root).open()
    try:
        raw = (CASES / "digest.md").read_bytes()
        digest = parse_digest(raw, str(CASES / "digest.md"))
        archive.record_digest(digest, raw, time.time())
        done = set()
        for entry in digest.entries:
            for link in entry.links:
                if link.link_id is None or link.link_id in done or link.url not in SOURCES:
                    continue
                done.add(link.link_id)
                body = (PAGES / SOURCES[link.url]).read_bytes()
                kind = "text/html; charset=utf-8"
                pointer = archive.warc.write_exchange(
                    url=link.url,
                    method="GET",
                    request_headers=[],
                    request_body=b"",
                    status=200,
                    protocol="HTTP/1.1",
                    response_headers=[("Content-Type", kind)],
                    body=body,
                    fetched_at=time.time(),
                )
                extracted = extract(link.url, body, kind)
                archive.record_outcome(
                    FetchOutcome(
                        link_id=link.link_id,
                        canonical_url=str(link.canonical_url),
                        status=Status(extracted.status),
                        http_status=200,
                        final_url=link.url,
                        content_type=kind,
                        body=body,
                        fetched_at=time.time(),
                        original=pointer,
                        body_sha256=hashlib.sha256(body).hexdigest(),
                        extracted=extracted,
                    )
                )
    finally:
        archive.close()
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print every detail and verdict")
    args = parser.parse_args()
    if not PAGES.is_dir():
        print(f"no saved pages at {PAGES}: nothing to measure")
        return 0
    from crawler.archive import check
    from crawler.items import Check

    truth = json.loads((CASES / "truth.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        root = build(Path(tmp) / "archive")
        results = sorted(check.check(root), key=lambda r: r.position)
    counts = dict.fromkeys(("right", "wrong", "missed", "caught", "unlabelled"), 0)
    for result in results:
        said = truth.get(str(result.position), {})
        print(
            f"#{result.position} {result.title}: {result.found} of {result.checked} found"
            + ("  MATCHES NOTHING" if result.matches_nothing else "")
        )
        for finding in result.findings:
            text = finding.detail.text
            true = said.get(text)
            found = finding.verdict == Check.FOUND
            if true is None:
                counts["unlabelled"] += 1
                mark = "?"
            elif found:
                mark = "right" if true else "WRONG"
                counts["right" if true else "wrong"] += 1
            else:
                mark = "missed" if true else "caught"
                counts["missed" if true else "caught"] += 1
            if args.show or mark in ("?", "WRONG", "missed"):
                print(f"   {mark:7} {finding.verdict:>15}  {finding.part:7} {text}")
    labelled = counts["right"] + counts["wrong"] + counts["missed"] + counts["caught"]
    said = counts["right"] + counts["missed"]
    print(
        f"\n{labelled} details read by hand: {counts['right']} found that the page says, "
        f"{counts['wrong']} found that it does not say, {counts['missed']} the page says but "
        f"not found, {counts['caught']} not in the page and flagged; {counts['unlabelled']} "
        f"unlabelled.\nfound: precision "
        f"{counts['right'] / max(1, counts['right'] + counts['wrong']):.0%}, recall "
        f"{counts['right'] / max(1, said):.0%}; planted errors flagged "
        f"{counts['caught']}/{labelled - said}"
    )
    sample_digests()
    return 1 if counts["wrong"] else 0


def sample_digests() -> None:
    """What the check would look up in the real sample digests (their sources are not saved
    here, so no verdicts): entries, entries with a summary, details by kind."""
    from dataclasses import asdict

    from crawler.archive.details import details
    from crawler.archive.summaries import entry_summaries
    from crawler.digests import parse_digest

    folder = REPO.parent / "shared" / "digests"
    if not folder.is_dir():
        return
    print("\nsample digests (no saved sources: what would be checked)")
    print("| digest | entries | with a summary | details | by kind |")
    print("| --- | ---: | ---: | ---: | --- |")
    for path in sorted(folder.glob("*.md")):
        raw = path.read_bytes()
        entries = [asdict(e) for e in parse_digest(raw, str(path)).entries]
        texts = entry_summaries(raw.decode("utf-8", "replace"), entries)
        kinds: dict[str, int] = {}
        for entry in entries:
            for part in (entry["title"], texts.get(entry["position"], "")):
                for d in details(part):
                    kinds[d.kind] = kinds.get(d.kind, 0) + 1
        shown = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items(), key=lambda x: -x[1]))
        print(
            f"| {path.stem} | {len(entries)} | {sum(1 for v in texts.values() if v)} | "
            f"{sum(kinds.values())} | {shown} |"
        )


if __name__ == "__main__":
    sys.exit(main())
