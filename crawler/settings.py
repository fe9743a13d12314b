"""The one settings module of `sources`. Every project setting is documented beside its default
and can be overridden on the command line with `-s NAME=VALUE`."""

from __future__ import annotations

from pathlib import Path

from crawler import __version__
from crawler.urls import MAX_URL_LENGTH

BOT_NAME = "sources"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
COMMANDS_MODULE = "crawler.commands"  # our `crawl` sets the exit code from the run's outcome

# --- project settings ---------------------------------------------------------------------
# Digests read when `-a digests=` is not given: comma-separated files, folders, globs, URLs.
DIGESTS = str(Path(__file__).resolve().parent.parent / "examples" / "digests")
# Where the archive lives (created when missing). See ARCHIVE.md.
ARCHIVE_DIR = "archive"
# A WARC file is closed and a new one started once it passes this many bytes.
WARC_MAX_BYTES = 1_000_000_000
# A link that keeps failing is tried at most this many times in all, across runs.
MAX_ATTEMPTS_PER_URL = 5
# A `blocked` link (verification page, rate limit) waits this many seconds before the next
# run may try it again, doubled with each attempt.
BLOCKED_BACKOFF = 3600
# When a site answers with a verification page, a rate limit or 429/503, every further
# request to it in this run waits at least this long (doubling on each new block).
BLOCKED_SITE_DELAY = 10.0
# Requisites (pipelines.requisites): what an archived article's page needs to be seen as its
# reader saw it, fetched with the article's page as Referer and stored beside it (WARC records
# named in the article's `attachments`). The images of the body of articles from these sites:
# "*" for every site, "" for none (WeChat's images refuse hotlinks: a link to them is no archive).
ARTICLE_IMAGES_DOMAINS = ["*"]
# At most this many images are stored per article (the rest is counted in attachments_omitted).
ARTICLE_IMAGES_MAX = 60
# Also the stylesheets the page links and what they load (@import one level deep, fonts and
# images of url()). A stylesheet or font shared by a site's pages is stored once.
REQUISITES_STYLES = True
# At most this many requisites per page in all (images, stylesheets, fonts).
REQUISITES_MAX = 100
# A page's requisites take at most this many bytes in all (reserved before each download).
REQUISITES_MAX_BYTES = 64 * 1024 * 1024
# One requisite larger than this (once decompressed) is not stored: `skipped`, "too large".
REQUISITE_MAXSIZE = 16 * 1024 * 1024
# Requisites of one page downloaded at once (the site's politeness applies as to pages).
REQUISITES_CONCURRENCY = 4
# A raster image whose header declares more pixels than this is a decompression bomb: skipped.
REQUISITES_MAX_PIXELS = 100_000_000
# A requisite URL stored this many seconds ago or less is referenced by later pages without a
# fetch; older, it is fetched again (the same bytes then become a `revisit` record).
REQUISITES_REFETCH_AFTER = 30 * 86400
# Also fetch and store the document form of articles whose site has one (an arXiv paper's PDF;
# the abs page is always archived). See crawler.urls.documents.
ARTICLE_DOCUMENTS = False
# Pages of these hosts are read by another site's extractor: {"mirror.example:8080":
# "mp.weixin.qq.com"} for mirrors of a site (and for tests, whose sites run on loopback).
EXTRACT_AS: dict[str, str] = {}
# Processes that run text extraction beside the crawl: "auto" is one per core beyond the first
# (the crawl process keeps that one busy); 0 extracts on the crawl's own thread.
EXTRACT_WORKERS: int | str = "auto"
# Seconds one page may take to extract before it is recorded failed and its worker restarted;
# counted from when its worker starts reading it, not while it waits behind other pages.
EXTRACT_TIMEOUT = 120
# Address space (MB) each extraction worker may use (RLIMIT_AS); a page that needs more ends
# `failed` ("... needs more than EXTRACT_WORKER_MEMORY") and its worker is replaced. 0: none.
EXTRACT_WORKER_MEMORY = 256
# A worker holding more than this (MB of RSS) after a page is replaced before the next one;
# and after this many pages (0: never). Keeps the crawl's process tree within its ceiling.
EXTRACT_WORKER_RECYCLE_MB = 160
EXTRACT_WORKER_MAX_PAGES = 2000
# Bytes of a body the extractors read at most (the WARC keeps every byte as served); pages are
# cut there before they are sent to a worker. Not below crawler.extractors.decode.MAX_HTML_BYTES.
EXTRACT_MAX_BYTES = 10_000_000
# Networks or host names that may be fetched although private or loopback (CIDR or names).
ALLOWED_PRIVATE_NETWORKS: list[str] = []
# Where site owners can learn about this crawler; it is part of the User-Agent.
CONTACT_URL = "https://github.com/sources-crawler/sources"
# Log a progress line this often (seconds) on long runs.
PROGRESS_INTERVAL = 30.0
# The run counts as failed (non-zero exit) when more than this share of the fetched links
# ended `failed` (network errors, server errors). Gone and blocked links do not count.
MAX_ERROR_RATE = 0.5
# "network looks unreachable" is logged (once) when at least UNREACHABLE_MIN_FETCHES fetches
# are done and more than this share of them could not resolve their host or connect to it; a
# run that fails on MAX_ERROR_RATE so exits with its own code (README, Exit codes).
UNREACHABLE_SHARE = 0.8
UNREACHABLE_MIN_FETCHES = 5

# --- monitoring (crawler.extensions.report) -----------------------------------------------
# Each run's archived articles are counted by the fields found (title, date, author or
# account, text) and each site's fetches by outcome; both are compared with the previous
# MONITOR_HISTORY crawl runs in runs/ (their median), and a fall beyond the limits below fails
# the run ("coverage drop"). 0 turns the comparison off.
MONITOR_HISTORY = 5
# Runs (this one or a previous one) with fewer archived articles are not compared.
MONITOR_MIN_ARTICLES = 20
# A field's share of articles may fall this much (0.3: from 95% to 65%) below the median.
MONITOR_COVERAGE_DROP = 0.3
# Sites with fewer fetches in this run (or in a previous one) are not compared.
MONITOR_MIN_SITE_FETCHES = 10
# A site's archived share of its fetches may fall this much below the median.
MONITOR_SITE_DROP = 0.5
# Told when a run fails (NOTIFY_ON = "always": after every run), with the run report:
# NOTIFY_COMMAND is run by the shell with the report's JSON on its standard input and
# SOURCES_RUN_REPORT (the report's path), SOURCES_EXIT_CODE and SOURCES_FAILURES in its
# environment (deploy/notify.py mails it); NOTIFY_WEBHOOK is POSTed the report's JSON.
NOTIFY_COMMAND = ""
NOTIFY_WEBHOOK = ""
NOTIFY_ON = "failure"
# Seconds the command or the webhook may take.
NOTIFY_TIMEOUT = 30.0

# Distributed mode: a Redis URL shares one frontier among several crawl processes
# (crawler.extensions.distributed); they write into one archive. Empty: a single crawl, no
# Redis needed.
REDIS_URL = ""
# Name shared by all processes of one distributed run (Redis keys); default: the UTC date.
DISTRIBUTED_RUN = ""
# Seconds the run's Redis keys (queue, dupefilter) live after the last process touched them
# (refreshed while a process runs); 0: they never expire.
REDIS_KEYS_TTL = 3 * 24 * 3600
ADDONS = {"crawler.extensions.distributed.DistributedAddon": 0}

# --- re-checks: is an archived page still there? (README, *Link rot*) -------------------------
# A normal crawl re-checks up to this many archived links whose next check is due, after its
# new links (0: none). `-a recheck=due` runs re-checks only, up to RECHECK_BUDGET of them;
# `-a recheck=off` none.
RECHECK_PER_RUN = 100
RECHECK_BUDGET = 1000
# At most this share of a run's re-checks go to one site (at least one), so that one site's
# backlog neither fills the run nor keeps its politeness delays busy all night.
RECHECK_SITE_SHARE = 0.5
# How often a link is checked again, by its age (time since it was first cited): "EVERY until
# AGE, ..., EVERY" (units s, m, h, d, w). Daily in the first week, weekly to three months,
# monthly after.
RECHECK_SCHEDULE = "1d until 7d, 7d until 90d, 30d"
# A 404/410 (which a site's hiccup can answer too) marks a page gone only when a second check
# at least this many seconds later sees it absent again; a site's own "deleted" page (WeChat's
# 该内容已被发布者删除) is enough once.
RECHECK_CONFIRM_AFTER = 6 * 3600

# --- politeness ---------------------------------------------------------------------------
USER_AGENT = f"sources/{__version__} (+{CONTACT_URL})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
# Bytes of responses being processed at once before downloads wait (Scrapy's default: 5 MB).
# Each page is held until its extraction and storage are done; 2 MB keeps the extraction
# workers fed (pages are queued in their pipes) with less held in memory.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 2_000_000
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # each delay varies by ±50%
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# Sites that ask for care: WeChat rate-limits hard; arXiv asks for one request every 3 s.
DOWNLOAD_SLOTS = {
    "mp.weixin.qq.com": {"concurrency": 1, "delay": 2.0},
    "arxiv.org": {"concurrency": 1, "delay": 3.0, "jitter": 0},
    "export.arxiv.org": {"concurrency": 1, "delay": 3.0, "jitter": 0},
    # WeChat's image CDN: many small requisites, served by a CDN, not the article site
    "mmbiz.qpic.cn": {"concurrency": 4, "delay": 0.25},
}
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
}

# --- limits and retries -------------------------------------------------------------------
# Seconds one download may take, connecting and the whole body included.
DOWNLOAD_TIMEOUT = 30
# A body (once decompressed) larger than this is not stored: the link ends `skipped`, "too
# large: ...". Articles are < 5 MB, arXiv PDFs < 50 MB.
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
# A compressed response waits before it is decompressed while the responses being processed
# hold more than this many bytes (crawler.middlewares.sizes.DecompressionGate): gzip bombs
# under DOWNLOAD_MAXSIZE are inflated one after another, not all at once. 0: no waiting.
DECOMPRESS_WAIT_BYTES = 16 * 1024 * 1024
# A body shorter than its Content-Length is a failure ("truncated body"), never stored as whole.
DOWNLOAD_FAIL_ON_DATALOSS = True
# The one URL length limit (Scrapy's UrlLengthMiddleware drops longer requests): a cited link
# longer than this is recorded `invalid` with why, never sent to be dropped.
URLLENGTH_LIMIT = MAX_URL_LENGTH
# Redirects followed per link; a longer chain ends `failed` "too many redirects", a URL about to
# be requested a third time "redirect loop" (crawler.middlewares.redirects).
REDIRECT_MAX_TIMES = 10
# Retries within a run (crawler.middlewares.retry): at most RETRY_TIMES per fetch,
# after RETRY_BACKOFF_BASE * 2**n seconds (capped at RETRY_BACKOFF_MAX), or after Retry-After
# for 429 and 503. A Retry-After over RETRY_AFTER_MAX seconds is not waited for: the link ends
# `blocked` and the next run that may try it comes after it.
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
RETRY_BACKOFF_BASE = 1.0
RETRY_BACKOFF_MAX = 60.0
RETRY_AFTER_MAX = 120.0
# Retried: timeouts, refused, reset or closed connections, truncated bodies. Not retried in
# the run: DNS failures (the next run tries again), refusals, bodies over DOWNLOAD_MAXSIZE.
RETRY_EXCEPTIONS = [
    "scrapy.exceptions.DownloadConnectionRefusedError",
    "scrapy.exceptions.DownloadFailedError",
    "scrapy.exceptions.DownloadTimeoutError",
    "scrapy.exceptions.ResponseDataLossError",
    "twisted.internet.error.ConnectionDone",
    "twisted.internet.error.ConnectError",
    "twisted.internet.error.ConnectionLost",
    "twisted.internet.error.TimeoutError",
    "twisted.web._newclient.ResponseNeverReceived",
    "scrapy.core.downloader.handlers.http11.TunnelError",
]

# --- components ---------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # 500-599: retries and what they count
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.retry.BackoffRetryMiddleware": 550,  # Retry-After, backoff, bounded
    "crawler.middlewares.sizes.SizesMiddleware": 555,  # names bodies cut for DOWNLOAD_MAXSIZE
    # compressed responses wait here, before Scrapy's HttpCompressionMiddleware (590) inflates
    # them, while the responses in processing are large
    "crawler.middlewares.sizes.DecompressionGate": 595,
    # 580-699: Scrapy's redirect middlewares, ending loops and long chains with a reason
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.redirects.MetaRefreshGuardMiddleware": 580,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.redirects.RedirectGuardMiddleware": 600,
    # 900-999: close to the network
    # every hop's bytes as served (before decompression)
    "crawler.middlewares.warcrecorder.WarcRecorderMiddleware": 950,
    # last before the download: refuses non-http(s) and private/loopback hosts on every hop
    "crawler.middlewares.netsafety.NetworkSafetyMiddleware": 960,
}
# Resolves names and refuses private, loopback, link-local ... addresses where connections are
# made, so a redirect hop or a DNS rebinding cannot dodge the check (ALLOWED_PRIVATE_NETWORKS).
TWISTED_DNS_RESOLVER = "crawler.netsafety.SafeResolver"
EXTENSIONS = {
    # progress lines, runs/<id>.json, the summary, monitoring and the run's verdict (exit
    # code); built first of ours: it checks every setting (crawler.config) before the archive
    # is opened, and finds the archive only when it reports
    "crawler.extensions.report.RunReport": 90,
    # opens ARCHIVE_DIR once per crawl; built before the engine, so a held archive fails fast
    "crawler.extensions.archive.ArchiveExtension": 100,
    # the one site back-off (Retry-After waits, pages that block the crawler)
    "crawler.extensions.backoff.SiteBackoff": 110,
    # INFO keeps one line per link outcome: robots.txt download errors, retry notes and
    # refusal warnings (each told again by the link's outcome line) go to DEBUG
    "crawler.extensions.quietlog.QuietLog": 120,
}
# The run report, its summary and the exit code that tells cron whether the run failed.
RUN_REPORT_ENABLED = True
ITEM_PIPELINES = {
    # 100-199: read the page
    "pipelines.extract.ExtractPipeline": 100,
    # 200-299: clean what was read
    "pipelines.normalize.NormalizePipeline": 200,
    # 250-299: re-checks of archived links: what each observed, recorded as an observation
    # (they end here: what follows is for first fetches)
    "pipelines.recheck.RecheckPipeline": 250,
    # 300-399: decide what is new
    "pipelines.dedupe.DedupePipeline": 300,
    # 400-499: decide what each fetch ends as
    "pipelines.settle.SettlePipeline": 400,
    # 900-999: write the archive, then fetch what its articles' pages need (requisites)
    "pipelines.store.StorePipeline": 900,
    "pipelines.requisites.RequisitesPipeline": 950,
}

LOG_LEVEL = "INFO"
# Consoles into a running crawl, both off: Scrapy's telnet console, and its remote control (an
# HTTP endpoint that runs the Python code sent to it, its access token in a job file under
# REMOTE_CONTROL_JOBS_DIR). Turn either on with -s ...=True; the job file must then not be
# inside ARCHIVE_DIR (checked at start).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
