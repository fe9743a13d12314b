"""The `sources/*` stats keys: how a run explains itself.

Every decision a component makes is counted under one of these keys; the run report and the
tests read them. Keys that depend on a value (a status, a site, a reason) are built by the
functions below, so that each key's spelling lives here only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapy.statscollectors import StatsCollector

PREFIX = "sources"

DIGESTS_READ = "sources/digests/read"
DIGESTS_UNCHANGED = "sources/digests/unchanged"
DIGESTS_FAILED = "sources/digests/failed"
DIGESTS_ERRORS = "sources/digests/errors"  # a list of "<source>: <why>"
ENTRIES = "sources/entries"
#: One summary per digest read: source, format, structure (the rule that found its entries),
#: entries, links by role. A list, as the run report shows it; the first `DIGESTS_SUMMARIES_MAX`
#: digests of a run (a backlog of thousands would flood the stats dump), every one is logged.
DIGESTS_SUMMARIES = "sources/digests/summaries"
DIGESTS_SUMMARIES_MAX = 500

LINKS_INVALID = "sources/links/invalid"
LINKS_NEW = "sources/links/new"
LINKS_SCHEDULED = "sources/links/scheduled"
LINKS_RESUMED = "sources/links/resumed"
LINKS_DUPLICATE_IN_RUN = "sources/links/duplicate_in_run"
#: Links of earlier runs longer than URLLENGTH_LIMIT (lowered since), recorded skipped.
LINKS_TOO_LONG = "sources/links/too_long"
#: Why a cited link was not fetched: its status, or `ALIAS` (another link names the page).
ALIAS = "alias"

#: Re-checks of archived links: due when the run began, requested (within the budget), sent
#: with validators, answered 304, left for a later run by RECHECK_SITE_SHARE, and those whose
#: answer counts in the error rate (failed: network and server errors); by outcome `recheck`.
RECHECKS_DUE = "sources/rechecks/due"
RECHECKS_SCHEDULED = "sources/rechecks/scheduled"
RECHECKS_CONDITIONAL = "sources/rechecks/conditional"
RECHECKS_NOT_MODIFIED = "sources/rechecks/not_modified"
RECHECKS_OVER_SITE_SHARE = "sources/rechecks/over_site_share"
RECHECKS_NOT_CITED = "sources/rechecks/not_cited"  # due, but nothing cites it: put off
RECHECKS_FAILED = "sources/rechecks/failed"

DROPPED_ALREADY_ARCHIVED = "sources/dropped/already_archived"
NORMALIZE_UNPARSED_DATE = "sources/normalize/unparsed_date"
ATTACHMENTS_SCHEDULED = "sources/attachments/scheduled"
#: Requisites beyond a page's limits, not fetched (ARTICLE_IMAGES_MAX, REQUISITES_MAX).
ATTACHMENTS_OMITTED = "sources/attachments/omitted"
#: Requisites a killed crawl left pending, fetched by this run.
ATTACHMENTS_RESUMED = "sources/attachments/resumed"

#: Compressed responses held back before decompression (`DecompressionGate`).
DECOMPRESS_WAITS = "sources/decompress/waited"
#: Extraction workers replaced between pages (memory held, pages read, out of memory).
EXTRACT_RECYCLED = "sources/extract/recycled"
#: Damaged records (cut short, not JSON, wrong shape) the archive met, named in the report.
ARCHIVE_DAMAGED = "sources/archive/damaged_records"
#: Items whose storing raised an unexpected exception; their links are recorded failed.
STORE_ERRORS = "sources/archive/store_errors"

ARCHIVE_WRITE_ERRORS = "sources/archive/write_errors"
ARCHIVE_FIRST_WRITE_ERROR = "sources/archive/first_write_error"
WARC_RECORDS = "sources/warc/records"
WARC_BYTES = "sources/warc/bytes"

#: Retries and site back-offs (besides Scrapy's own `retry/count`, `retry/reason_count/*`).
RETRY = "sources/retry"
RETRY_SITE_BACKOFF = "sources/retry/site_backoff"
RETRY_WAITED = "sources/retry/waited_seconds"
RETRY_TOO_LARGE = "sources/retry/too_large"

#: The run's verdict, set by the run report and read by the crawl command.
EXIT_CODE = "sources/exit_code"
FAILURES = "sources/failures"
FAILURE_KINDS = "sources/failure_kinds"  # one word per failure (the exit codes' names)

#: Fetches that could not resolve their host or connect to it (the network looks down).
LINKS_UNREACHABLE = "sources/links/unreachable"
#: Archived articles (not binaries) of the run, and how many have each field.
COVERAGE_ARTICLES = "sources/coverage/articles"
#: Notifications of the run's end that could not be delivered.
NOTIFY_FAILED = "sources/notify/failed"

_SITES = "sources/sites/"


def cited(role: str) -> str:
    """Links cited in the run's digests, by role."""
    return f"sources/links/cited/{role}"


_DIGEST_RULES = "sources/digests/rule/"


def digest_rule(rule: str) -> str:
    """Digests whose entries were found by this rule (`headings`, `items`, `blocks`, ...)."""
    return f"{_DIGEST_RULES}{rule}"


def digest_rules(stats: Mapping[str, Any]) -> dict[str, int]:
    """Digests read by each rule, read back from the `digest_rule` keys."""
    return {
        key.removeprefix(_DIGEST_RULES): int(value)
        for key, value in sorted(stats.items())
        if key.startswith(_DIGEST_RULES)
    }


def not_fetched(why: str) -> str:
    """A cited link not fetched: its status (archived, gone, ...) or `ALIAS`."""
    return f"sources/links/skipped/{why}"


def recheck(name: str) -> str:
    """Re-checks that observed this outcome (unchanged, changed, gone, unreachable), or the
    re-check count `name` of the RECHECKS_* keys above (due, scheduled, ...)."""
    return f"sources/rechecks/{name}"


def outcome(status: str) -> str:
    """Fetches that ended with this status."""
    return f"sources/links/{status}"


def site_outcome(host: str, status: str) -> str:
    """Fetches of one site that ended with this status."""
    return f"{_SITES}{host}/{status}"


def reason(status: str, why: str | None) -> str:
    """Fetches that ended with this status for this kind of reason."""
    return f"sources/{status}/{reason_key(why)}"


def extracted(extractor: str) -> str:
    """Pages read by this extractor."""
    return f"sources/extracted/{extractor}"


def attachment(status: str) -> str:
    """Attachments (images, PDFs) that ended with this status."""
    return f"sources/attachments/{status}"


def attachment_dedupe(how: str) -> str:
    """Requisites stored once and shared: by URL (not fetched) or by payload (a revisit)."""
    return f"sources/attachments/dedupe/{how}"


def attachment_kind(kind: str) -> str:
    """Requisites planned, by kind (image, stylesheet, font, style-image, document)."""
    return f"sources/attachments/kind/{kind}"


def refused(kind: str) -> str:
    """Requests refused by the network-safety policy, by kind (loopback, private, scheme...)."""
    return f"sources/refused/{kind}"


def backoff(host: str) -> str:
    """Times a site was backed off for blocking the crawler."""
    return f"sources/backoff/{host}"


def gave_up(why: str) -> str:
    """Retries given up, by reason."""
    return f"{RETRY}/gave_up/{why}"


def retry_reason(why: str) -> str:
    """Retries made, by reason."""
    return f"{RETRY}/reason/{why}"


def reason_key(why: str | None) -> str:
    """A short key for a reason: its words before the first colon or parenthesis."""
    if not why:
        return "unknown"
    key = why.split(":")[0].split("(")[0].strip().lower().replace(" ", "_")
    return key[:40] or "unknown"


def coverage(field: str) -> str:
    """Archived articles of the run that have this field (title, date, author, text)."""
    return f"sources/coverage/{field}"


def sites(stats: Mapping[str, Any]) -> dict[str, dict[str, int]]:
    """Outcomes per site, read back from the `site_outcome` keys."""
    found: dict[str, dict[str, int]] = {}
    for key, value in stats.items():
        if key.startswith(_SITES):
            host, _, status = key.removeprefix(_SITES).rpartition("/")
            found.setdefault(host, {})[status] = int(value)
    return dict(sorted(found.items()))


def note_write_error(stats: StatsCollector, exc: BaseException) -> None:
    """Count a failed archive write; the first one's message goes into the run's failure."""
    stats.inc_value(ARCHIVE_WRITE_ERRORS)
    if not stats.get_value(ARCHIVE_FIRST_WRITE_ERROR):
        stats.set_value(ARCHIVE_FIRST_WRITE_ERROR, str(exc))
