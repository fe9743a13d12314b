"""`python -m crawler.archive rot [ARCHIVE_DIR]`: how the cited links fared, per site.

Read from the link records alone (their re-check observations and the state they show,
ARCHIVE.md *Re-checks*): links cited, re-checked, still there, changed since they were cited,
gone, unreachable at their last re-check, and the median days from citation (the link's
`first_seen`) to the first observation of an absence that was then established.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from crawler.archive import layout, records
from crawler.archive.reader import read_quietly
from crawler.items import Observed, Status

#: The table's columns: (heading, field of `SiteRot`).
COLUMNS = (
    ("site", "site"),
    ("cited", "cited"),
    ("checked", "checked"),
    ("still there", "still_there"),
    ("changed", "changed"),
    ("gone", "gone"),
    ("unreachable", "unreachable"),
    ("median days to absence", "median_days_to_absence"),
)
DAY = 86400.0


@dataclass
class SiteRot:
    """One site's row."""

    site: str
    cited: int = 0  # links some digest cites
    checked: int = 0  # ... re-checked at least once
    still_there: int = 0  # ... seen there at the last look that saw anything
    changed: int = 0  # ... whose page changed at least once (more than one version)
    gone: int = 0  # ... whose absence was established after they were archived
    unreachable: int = 0  # ... whose last re-check got no answer (or a block, a 5xx)
    days_to_absence: list[float] = field(default_factory=list, repr=False)

    @property
    def median_days_to_absence(self) -> float | None:
        """Median days from citation to the first look that saw the page absent."""
        if not self.days_to_absence:
            return None
        return round(statistics.median(self.days_to_absence), 1)

    def add(self, link: dict[str, Any]) -> None:
        """Count one link record."""
        self.cited += 1
        observations = link.get(records.OBSERVATIONS) or []
        if not observations or link.get("status") != Status.ARCHIVED:
            return
        self.checked += 1
        state = records.link_state(link)
        self.still_there += state["alive"] is True
        self.changed += len(records.versions(link)) > 1
        if observations[-1].get("outcome") == Observed.UNREACHABLE:
            self.unreachable += 1
        if state["alive"] is False:
            self.gone += 1
            cited = records.parse_time(link.get("first_seen"))
            absent = records.parse_time(state["gone_since"])
            if cited is not None and absent is not None:
                self.days_to_absence.append(max(0.0, absent - cited) / DAY)

    def merge(self, other: SiteRot) -> None:
        """Add another site's counts (for the "all" row)."""
        for name in ("cited", "checked", "still_there", "changed", "gone", "unreachable"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.days_to_absence += other.days_to_absence

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON."""
        row = asdict(self)
        del row["days_to_absence"]
        return row | {"median_days_to_absence": self.median_days_to_absence}


def _links(root: Path) -> Iterator[dict[str, Any]]:
    base = root / layout.LINKS
    for path in sorted(base.glob("*/*.json")) if base.is_dir() else []:
        if path.name.startswith("."):
            continue
        record = read_quietly(path)  # a damaged record: `verify` names it
        if record is not None:
            yield record


def table(root: Path) -> list[SiteRot]:
    """One row per site, most cited first, and an "all" row last."""
    sites: dict[str, SiteRot] = {}
    for link in _links(root):
        if not link.get("cited_by") or records.UNREFERENCED in link:
            continue
        host = (urlsplit(str(link.get("canonical_url", ""))).hostname or "?").lower()
        sites.setdefault(host, SiteRot(host)).add(link)
    rows = sorted(sites.values(), key=lambda r: (-r.cited, r.site))
    total = SiteRot("all")
    for row in rows:
        total.merge(row)
    return [*rows, total]


def write_table(rows: list[SiteRot], out: TextIO) -> None:
    """The rows as an aligned text table."""
    cells = [[heading for heading, _ in COLUMNS]]
    for row in rows:
        values = [getattr(row, name) for _, name in COLUMNS]
        cells.append(["–" if v is None else str(v) for v in values])
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    for line in cells:
        first = line[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True))
        out.write("  ".join([first, *rest]).rstrip() + "\n")


def write_json(rows: list[SiteRot], out: TextIO) -> None:
    """The rows as JSON lines."""
    for row in rows:
        out.write(json.dumps(row.as_dict(), ensure_ascii=False) + "\n")
