"""`verify`: every WARC record, JSON record and link-back of an archive, checked.

Each problem is told once, by the record it is in: a damaged run of WARC bytes is one line
(reading resumes at the next sound member, so the records after it are checked as usual), and
a link-back to a record that is itself damaged is not told again.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.archive import layout, records
from crawler.archive.warcread import parse_record, scan
from crawler.items import Status


@dataclass
class WarcMap:
    """Where the records of the archive's WARC files start, and which bytes are damaged."""

    starts: dict[str, dict[int, tuple[int, str]]] = field(default_factory=dict)
    damaged: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def problem(self, ptr: dict[str, Any]) -> str | None:
        """What is wrong with a pointer (a dict of `records.POINTER_FIELDS`), or None."""
        warc, offset = ptr.get("warc", ""), ptr.get("offset", -1)
        where = self.starts.get(warc)
        if where is None:
            return f"original points at missing WARC file {warc}"
        for start, end in self.damaged.get(warc, []):
            if start <= offset < end:
                return f"original {warc}:{offset} lies in damaged bytes {start}-{end}"
        length, record_id = where.get(offset, (None, None))
        if record_id != ptr.get("record_id"):
            return f"original {warc}:{offset} is not record {ptr.get('record_id')}"
        if length != ptr.get("length"):
            return f"original {warc}:{offset} is {length} bytes long, not {ptr.get('length')}"
        return None


def warc_map(root: Path) -> tuple[WarcMap, list[str]]:
    """Read every WARC file: where its records are, and one line per problem found."""
    found = WarcMap()
    lines = []
    for path in sorted((root / layout.WARC).glob("*.warc.gz")):
        rel = layout.relative(root, path)
        found.starts[rel], found.damaged[rel] = {}, []
        for member in scan(path):
            if member.problems:
                lines.append(f"{rel}:{member.offset}: {'; '.join(member.problems)}")
            if member.damaged:
                found.damaged[rel].append((member.offset, member.offset + member.length))
            else:
                record_id = member.headers.get("warc-record-id", "")
                found.starts[rel][member.offset] = (member.length, record_id)
    return found, lines


def verify(root: Path) -> Iterator[str]:
    """Yield one line per problem: `<file>[:<offset>]: what is wrong`."""
    found: dict[str, dict[str, dict[str, Any]]] = {
        layout.DIGESTS: {},
        layout.LINKS: {},
        layout.ARTICLES: {},
    }
    damaged: dict[str, set[str]] = {kind: set() for kind in found}  # present, not readable
    for kind in found:
        base = root / kind
        pattern = "*.json" if kind == layout.DIGESTS else "*/*.json"
        for path in sorted(base.glob(pattern)) if base.is_dir() else []:
            if path.name.startswith("."):
                continue  # a writer's temp or lock file, not a record
            rel = layout.relative(root, path)
            try:
                rec = json.loads(path.read_bytes())
            except (OSError, ValueError) as exc:
                yield f"{rel}: unreadable JSON ({exc})"
                damaged[kind].add(path.stem)
                continue
            problems = records.problems(kind, rec)
            if problems:
                yield f"{rel}: {'; '.join(problems)}"
                damaged[kind].add(path.stem)
                continue
            if path.stem != rec["id"]:
                yield f"{rel}: file name does not match id {rec['id']!r}"
            found[kind][rec["id"]] = rec

    warcs, lines = warc_map(root)
    yield from lines

    def pointer_problems(owner: str, ptr: dict[str, Any] | None) -> Iterator[str]:
        problem = warcs.problem(ptr) if ptr else None
        if problem:
            yield f"{owner}: {problem}"

    links, articles = found[layout.LINKS], found[layout.ARTICLES]
    cited: dict[str, set[tuple[str, int, str]]] = {}
    for digest_id, digest in found[layout.DIGESTS].items():
        rel = f"digests/{digest_id}.json"
        yield from pointer_problems(rel, digest["original"])
        for entry in records.citing_entries(digest):  # entry 0: the digest's own links
            for lk in entry["links"]:
                link_id = lk.get("link_id")
                if not link_id:
                    continue
                cited.setdefault(link_id, set()).add((digest_id, entry["position"], lk["url"]))
                if link_id not in links and link_id not in damaged[layout.LINKS]:
                    yield f"{rel}: entry {entry['position']} cites link {link_id} with no record"
    for link_id, link in links.items():
        rel = layout.relative(root, layout.link_path(root, link_id))
        yield from pointer_problems(rel, link["original"])
        back = {(c["digest"], c["entry"], c["url"]) for c in link["cited_by"]}
        for missing in cited.get(link_id, set()) - back:
            yield f"{rel}: cited by {missing[0]} entry {missing[1]} but cited_by omits it"
        for extra in back - cited.get(link_id, set()):
            if extra[0] in damaged[layout.DIGESTS]:
                continue  # that digest's record is damaged: told once, above
            yield f"{rel}: cited_by names {extra[0]} entry {extra[1]}, which does not cite it"
        art = link["article"]
        if link["status"] == Status.ARCHIVED and not art:
            yield f"{rel}: archived without an article"
        if art and art in damaged[layout.ARTICLES]:
            pass  # told once, above
        elif art and art not in articles:
            yield f"{rel}: points at article {art} with no record"
        elif art and link_id not in articles[art]["links"] and "same_as" not in link:
            yield f"{rel}: article {art} does not list this link"
    for article_id, article in articles.items():
        rel = layout.relative(root, layout.article_path(root, article_id))
        yield from pointer_problems(rel, article["original"])
        for link_id in article["links"]:
            if link_id in damaged[layout.LINKS]:
                continue
            if links.get(link_id, {}).get("article") != article_id:
                yield f"{rel}: lists link {link_id}, which does not point back"
        yield from requisite_problems(root, rel, article, pointer_problems)
    yield from _rechecks(root, links, articles, pointer_problems)


def _rechecks(
    root: Path,
    links: dict[str, dict[str, Any]],
    articles: dict[str, dict[str, Any]],
    pointer_problems: Callable[[str, dict[str, Any] | None], Iterator[str]],
) -> Iterator[str]:
    """Re-checks: each observation and version well formed, their pointers sound, the state
    what the observations show, and every version's article naming its link (and back)."""
    for link_id, link in links.items():
        rel = layout.relative(root, layout.link_path(root, link_id))
        problems = records.recheck_problems(link)
        for problem in problems:
            yield f"{rel}: {problem}"
        if problems:
            continue
        for n, obs in enumerate(link.get(records.OBSERVATIONS) or []):
            yield from pointer_problems(f"{rel}: observations[{n}]", obs["original"])
        for n, entry in enumerate(link.get(records.VERSIONS) or []):
            yield from pointer_problems(f"{rel}: versions[{n}]", entry["original"])
            art = articles.get(entry["article"])
            if art is None:
                yield f"{rel}: versions[{n}] names article {entry['article']} with no record"
            elif link_id not in art["links"] + art.get(records.VERSION_OF, []):
                yield f"{rel}: versions[{n}]: article {entry['article']} does not name this link"
    for article_id, article in articles.items():
        rel = layout.relative(root, layout.article_path(root, article_id))
        for link_id in article.get(records.VERSION_OF, []):
            named = {v.get("article") for v in records.versions(links.get(link_id, {}))}
            if article_id not in named:
                yield f"{rel}: a version of link {link_id}, which does not list it"


def requisite_problems(
    root: Path,
    rel: str,
    article: dict[str, Any],
    pointer_problems: Callable[[str, dict[str, Any] | None], Iterator[str]],
) -> Iterator[str]:
    """An article's requisites (`attachments`) checked like its own original: each entry's
    status, its pointer, and for a revisit that the record is a `revisit` referring to the
    record named in `revisit_of`, whose payload digest is the same."""
    attachments = article.get("attachments") or {}
    if not isinstance(attachments, dict):
        yield f"{rel}: attachments is not a JSON object"
        return
    for url, entry in attachments.items():
        owner = f"{rel}: attachment {url}"
        if not isinstance(entry, dict) or entry.get("status") not in records.LINK_STATUSES:
            yield f"{owner}: not an attachment entry with a known status"
            continue
        original = entry.get("original")
        yield from pointer_problems(owner, original)
        revisit_of = entry.get("revisit_of")
        if revisit_of:
            yield from pointer_problems(f"{owner} (revisit_of)", revisit_of)
            yield from revisit_problems(root, owner, entry)


def revisit_problems(root: Path, owner: str, entry: dict[str, Any]) -> Iterator[str]:
    """A revisit entry's two records agree: a `revisit` record (profile identical payload
    digest) whose WARC-Refers-To is the original's id and whose payload digest is the
    original's and the entry's."""
    revisit = _headers_at(root, entry.get("original") or {})
    original = _headers_at(root, entry.get("revisit_of") or {})
    if revisit is None or original is None:
        return  # a missing or misplaced record is told by its pointer's check
    if revisit.get("warc-type") != "revisit":
        yield f"{owner}: original is a {revisit.get('warc-type')} record, not a revisit"
        return
    if revisit.get("warc-refers-to") != (entry.get("revisit_of") or {}).get("record_id"):
        yield f"{owner}: revisit refers to {revisit.get('warc-refers-to')}, not to revisit_of"
    if "identical-payload-digest" not in revisit.get("warc-profile", ""):
        yield f"{owner}: revisit has profile {revisit.get('warc-profile')!r}"
    digests = {revisit.get("warc-payload-digest"), original.get("warc-payload-digest")}
    if len(digests) != 1 or entry.get("payload_digest") not in digests:
        yield f"{owner}: revisit and its original hold different payload digests"


def _headers_at(root: Path, ptr: dict[str, Any]) -> dict[str, str] | None:
    """The WARC headers of the record a pointer names, None when it cannot be read there."""
    name = str(ptr.get("warc", ""))
    if not name.startswith(layout.WARC + "/") or ".." in name or "\\" in name:
        return None  # only records of the archive's own WARC files are read
    try:
        with (root / name).open("rb") as fh:
            fh.seek(int(ptr["offset"]))
            data = fh.read(int(ptr["length"]))
        headers, _block, problems = parse_record(zlib.decompress(data, 16 + zlib.MAX_WBITS))
    except (OSError, KeyError, TypeError, ValueError, zlib.error):
        return None
    return None if problems else headers
