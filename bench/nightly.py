"""The new digest of no-op nightly runs: 100 links to fresh pages, none archived yet."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from bench import digestgen
from bench.site import SiteServer
from bench.sitegen import Site


def write_new_digest(folder: Path, site: Site, server: SiteServer) -> Path:
    """One digest citing every fresh page of the site (none of them archived yet)."""
    rng = random.Random(5)
    cites = [digestgen.Cite(server.url(site, p), p.title) for p in site.fresh]
    day = dt.date(2026, 12, 1)
    path = folder / f"new-ribao-{day.isoformat()}.md"
    path.write_text(digestgen.render(cites, day, rng), encoding="utf-8")
    return path
