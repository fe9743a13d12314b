"""`Extractor`: the base class of every extractor, its knobs and its hooks.

An extractor turns one fetched page into an `Extracted`. The base reads the body with
trafilatura (`crawler.extractors.body`) and the metadata from the page's own tags, then from
trafilatura's guesses. A site extractor subclasses it and overrides only what differs on its
site; `GenericExtractor` (crawler.extractors.generic) serves every site without one.

How `extract(page)` reads a decoded HTML page, and where a site steps in:

1. `page_state(page)`: an error, takedown or verification page is recognised before any
   extraction, and `stateful(page, state)` makes its `Extracted` (status and reason).
2. `select(page)`: the element holding the article, the first match among `container`.
3. `read(page, container)`: the body text; from the container alone when there is one (cut out
   of the page, unhidden, `prune` removed), else from the whole page.
4. `assemble(page, container, text)`: the fields. `metadata(page, container)` (what the site
   states plainly) wins over `page_metadata(page)` (Open Graph, article:*, JSON-LD), which wins
   over trafilatura's guesses (`guessed_metadata`, run only when `guessed_fields` are missing).
   The text loses its boilerplate lines (DROP_LINES + `drop_lines`, cut at `end_lines`).
5. `late_state(page, result)`: a soft 404 or a block page told by its short text; else a page
   without text goes to `no_text(page, result)`.

Bodies that are not HTML go to `extract_xml(url, text)` (feeds, sitemaps, API responses),
`extract_json(url, text, media_type)` (API responses: sites read through an API, see
`crawler.urls.fetch_url`) and `binary(url, media_type)` (PDFs, images, archives), chosen by
`crawler.extractors.extract`.

The knobs (class attributes) a site sets:

- `name`, `domains`: the name recorded in `Extracted.extractor` and the hosts served.
- `site`, `language`, `tz`: what every page of the site shares (name, language, time zone).
- `container`, `prune`: XPaths of the article element and of nodes removed before reading.
- `drop_lines`, `end_lines`: regexes of boilerplate lines to drop / of lines ending the article.
- `favor_recall`, `guess_date`, `guessed_fields`: how far trafilatura's judgement is trusted.

A site module is mostly knobs, with a hook only where the site is odd:

    class ExampleExtractor(Extractor):
        name = "example"
        domains = ("example.cn",)
        container = (f"//div[{has_class('article-body')}]",)
        favor_recall = True  # the container is precise already
        tz = CHINA_TZ

        def metadata(self, page: Page, body: Any) -> dict[str, Any]:
            return {"author": page.first(f"//*[{has_class('byline')}]")}

The rooms it draws on: `page` (Page, has_class, absolute), `dates` (parse_date, CHINA_TZ),
`text` (squash, node_text), `boilerplate` (the line rules), `scripts` (js_string).

Everything here is pure (no Scrapy, no network) and keeps no mutable state besides caches.
"""

from __future__ import annotations

import html as htmllib
import json
import re
from dataclasses import dataclass
from datetime import timezone
from typing import Any, ClassVar

from lxml import etree

from crawler.extractors.body import (
    guess_metadata,
    read_container,
    read_page,
    recall,
    text_element,
)
from crawler.extractors.boilerplate import DROP_LINES, strip_boilerplate
from crawler.extractors.dates import parse_date
from crawler.extractors.page import Page, absolute, has_class, parseable
from crawler.extractors.text import guess_language, squash
from crawler.items import Extracted, Requisite, Status
from crawler.requisites import css_references, srcset_best

#: (status, reason) of a page that is not an article.
State = tuple[Status, str]

_SOFT_404 = re.compile(
    r"404|页面不存在|页面未找到|页面找不到|文章不存在|内容不存在|内容已删除|已被删除|已下线|"
    r"page not found|not found|no longer available|does not exist",
    re.I,
)
_BLOCKED = re.compile(
    r"访问过于频繁|请求过于频繁|验证码|人机验证|安全验证|完成验证|环境异常|请登录|登录后查看|"
    r"just a moment|attention required|access denied|verify you are human|captcha|"
    r"too many requests|rate limit|sign in to continue|log in to continue",
    re.I,
)


@dataclass(frozen=True)
class BotWall:
    """One kind of bot wall: literal markers anywhere in the markup, or a page title."""

    what: str
    markers: tuple[str, ...] = ()
    title: re.Pattern[str] | None = None  # matched where the markup has "<title>"

    def seen(self, html: str, titles: list[int]) -> bool:
        """Whether the page (`html`, with `titles` the offsets of its "<title>") is this wall."""
        if any(marker in html for marker in self.markers):
            return True
        return self.title is not None and any(self.title.match(html, at) for at in titles)


def _title(pattern: str) -> re.Pattern[str]:
    return re.compile(r"<title>\s*(?:" + pattern + ")")


#: Bot walls and challenge pages, told by their markup (any site): literal markers are looked
#: for as such (no regex walks a whole page), titles only where the page has a <title>.
BOT_WALLS: tuple[BotWall, ...] = (
    BotWall(
        "Cloudflare challenge",
        ("_cf_chl_opt", "/cdn-cgi/challenge-platform/", "cf-browser-verification"),
        _title(r"Just a moment\.\.\.|Attention Required! \| Cloudflare"),
    ),
    BotWall("DataDome challenge", ("captcha-delivery.com",), _title("DataDome")),
    BotWall(
        "PerimeterX challenge",
        ("_pxCaptcha", "px-captcha", "perimeterx.net/"),
        _title("Access to this page has been denied"),
    ),
    BotWall("AWS WAF challenge", ("awswaf.com", "window.gokuProps", "AwsWafIntegration")),
    BotWall(
        "Akamai denial",
        ("errors.edgesuite.net",),
        _title(r"Access Denied\s*</title>[\s\S]{0,2000}Reference&#32;&#35;"),
    ),
    BotWall(
        "captcha page",
        ("nc_1_wrapper", "TencentCaptcha", "turing.captcha.qcloud.com"),
        _title("滑动验证页面|安全验证|验证码|人机验证"),
    ),
)

#: Pages at least this long are not checked for bot walls before extraction (challenge pages
#: are small; a long page that is one is still told by its short text afterwards).
WALL_BELOW = 300_000
_TITLE_TAG = re.compile("<title>")

#: Script-only pages: an app shell whose content needs its scripts (an empty mount point, or a
#: notice that JavaScript is needed).
_SHELL_NOTICE = re.compile(
    r"(?:enable|turn on|activate)\s+JavaScript|JavaScript (?:is (?:not available|disabled|"
    r"required)|must be enabled)|requires JavaScript|请(?:启用|开启|打开)\s*JavaScript|"
    r"需要(?:启用|开启)\s*JavaScript",
    re.I,
)
_MOUNT_POINT = re.compile(
    r"<(?:div|main)\s+id=[\"'](?:root|app|__next|__nuxt|react-root|main-app|svelte)[\"'][^>]*>\s*</"
)

#: Login walls: the page asks to sign in before it shows anything.
_LOGIN_WALL = re.compile(
    r"sign in to (?:continue|view|see|read)|log ?in to (?:continue|view|see|read)|"
    r"登录后(?:查看|阅读|继续|可见)|请(?:先)?登录|登录以(?:查看|继续)|扫码登录",
    re.I,
)

#: JSON-LD types of the item that describes an article (its date and author are the page's).
ARTICLE_TYPES = frozenset(
    {"Article", "NewsArticle", "BlogPosting", "ReportageNewsArticle", "AnalysisNewsArticle",
     "TechArticle", "ScholarlyArticle", "OpinionNewsArticle", "LiveBlogPosting", "Report",
     "SocialMediaPosting", "DiscussionForumPosting", "WebPage", "Posting"}
)  # fmt: skip

#: Names that are an outlet, not a person: "新浪财经", "人民日报", "XX新闻网", "Reuters Staff".
_OUTLET = re.compile(
    r"^.{1,12}(?:网|报|财经|新闻|日报|晚报|早报|时报|周刊|杂志|频道|客户端|电视台|卫视|通讯社|传媒|资讯)$|"
    r"^(?:.{1,30}\s)?(?:Staff|Newsroom|Editorial (?:Board|Team|Staff)|News Desk|Wire Services?)$",
    re.I,
)


def plausible_author(author: str | None, site: str | None = None, outlets: bool = False) -> bool:
    """Whether a value is a person's name (or a byline): not digits, a URL, an e-mail address,
    nor (unless `outlets`) the site's or an outlet's name."""
    value = squash(author)
    if not value or len(value) > 80 or not re.search(r"[^\W\d_]", value):
        return False  # empty, too long for a name, digits and punctuation only
    if re.match(r"^(?:https?://|www\.)|@[\w-]+\.\w|^\{|^\[", value):
        return False
    if outlets:
        return True
    if site and squash(site).lower() in (value.lower(), value.lower().removesuffix(".com")):
        return False
    return bool(re.search(r"[/｜|、]", value)) or not _OUTLET.match(value)  # "石佳/中国青年报"


class Extractor:
    """The base class of every extractor: the machinery, with hooks a subclass overrides.

    It is not registered itself: `GenericExtractor` is the extractor of sites without their own.
    """

    #: Name recorded in `Extracted.extractor` (and in stats); every subclass sets its own.
    name: ClassVar[str]
    #: Hosts this extractor serves; a host matches itself and all its subdomains.
    domains: ClassVar[tuple[str, ...]] = ()
    #: Site name when the page does not give one.
    site: ClassVar[str | None] = None
    #: Language of every page of the site, else detected.
    language: ClassVar[str | None] = None
    #: XPaths of the element holding the article body; the first that matches wins.
    container: ClassVar[tuple[str, ...]] = ()
    #: XPaths of nodes removed before the body is read.
    prune: ClassVar[tuple[str, ...]] = (
        "//*[self::script or self::style or self::noscript]",  # one walk of the tree, not three
        f"//*[{has_class('share')} or {has_class('social-share')} or {has_class('related')}"
        f" or {has_class('comments')}]",
    )
    #: Extra regexes of boilerplate lines dropped from the text (besides DROP_LINES).
    drop_lines: ClassVar[tuple[str, ...]] = ()
    #: Regexes of lines that end the article (searched in its second part).
    end_lines: ClassVar[tuple[str, ...]] = ()
    #: Trafilatura leaning: True favours recall (site containers are already precise).
    favor_recall: ClassVar[bool] = False
    #: Time zone of dates the site writes without offset (None: keep only their date).
    tz: ClassVar[timezone | None] = None
    #: Whether trafilatura's guessed date may stand in for a date the page does not state.
    guess_date: ClassVar[bool] = True
    #: Fields trafilatura's metadata reader may guess when the page does not state them; it
    #: runs (a third of the extraction time) only when one of them is missing.
    guessed_fields: ClassVar[tuple[str, ...]] = ("title", "author", "published", "site")
    #: Whether an outlet's name may be the author (a WeChat account writes its own posts).
    outlet_authors: ClassVar[bool] = False

    # ---- hooks a site overrides

    def page_state(self, page: Page) -> State | None:
        """(status, reason) when the page is an error or block page, checked before extraction:
        bot walls (Cloudflare, DataDome, ...), which are small pages."""
        return self.bot_wall(page) if len(page.html) < WALL_BELOW else None

    def bot_wall(self, page: Page) -> State | None:
        """A bot wall or challenge page, told by its markup."""
        html = page.html
        titles = [m.start() for m in _TITLE_TAG.finditer(html)]
        for wall in BOT_WALLS:
            if wall.seen(html, titles):
                title = page.first("//title") or ""
                said = f": {title}" if title and len(title) <= 60 else ""
                return Status.BLOCKED, f"{self.name}: bot wall ({wall.what}{said})"
        return None

    def wall(self, page: Page) -> State | None:
        """A page that shows nothing without its scripts, or a login wall (asked only of pages
        whose extraction found next to nothing)."""
        visible = page.visible_text
        if len(visible) < 300:
            if _LOGIN_WALL.search(visible):
                return Status.BLOCKED, f"{self.name}: login wall ({squash(visible)[:60]})"
            notice = _SHELL_NOTICE.search(visible) or _SHELL_NOTICE.search(
                " ".join(page.xpath("//noscript//text()"))
            )
            if notice or (_MOUNT_POINT.search(page.html) and len(page.scripts) > 2 * len(visible)):
                said = f" ({squash(notice.group(0))})" if notice else ""
                return Status.BLOCKED, f"{self.name}: script-only page{said}"
        return None

    def metadata(self, page: Page, body: Any) -> dict[str, Any]:
        """Fields the page states plainly; they win over trafilatura's guesses.

        Keys: any `Extracted` field name, plus "extra" (merged into `extra`).
        """
        return {}

    def late_state(self, page: Page, result: Extracted) -> State | None:
        """(status, reason) judged from the extraction: soft 404s, block pages, login walls and
        script-only shells are short."""
        if len(result.text) > 300:
            return None
        wall = self.wall(page)
        if wall:
            return wall
        probe = " ".join(filter(None, [result.title, result.text[:300]]))
        blocked = _BLOCKED.search(probe)
        if blocked:
            return Status.BLOCKED, f"{self.name}: blocked ({squash(blocked.group(0))})"
        gone = _SOFT_404.search(probe)
        if gone and (not result.text or len(result.text) < 200):
            return Status.GONE, f"{self.name}: soft 404 ({squash(gone.group(0))})"
        return None

    def no_text(self, page: Page, result: Extracted) -> Extracted:
        """What a page ends as when its body gave no text and `late_state` found nothing: failed.

        A site that keeps the text of some pages elsewhere (page data, a description) reads it
        here and returns the result archived.
        """
        result.status, result.reason = Status.FAILED, f"{self.name}: no text extracted"
        return result

    def binary(self, url: str, media_type: str | None) -> Extracted:
        """A binary body (PDF, image, archive): archived untouched, with its media type."""
        return Extracted(
            status=Status.ARCHIVED, extractor="binary", text="", extra={"content_type": media_type}
        )

    # ---- the machinery

    def select(self, page: Page) -> Any:
        """The body container element, or None."""
        for query in self.container:
            for hit in page.xpath(query):
                if isinstance(hit, etree._Element):
                    return hit
        return None

    def extract(self, page: Page) -> Extracted:
        """Extract one decoded HTML page."""
        if page.tree is None:
            return Extracted(status=Status.FAILED, reason="unparseable HTML", extractor=self.name)
        state = self.page_state(page)
        if state:
            return self.stateful(page, state)
        body = self.select(page)
        result = self.assemble(page, body, self.read(page, body))
        late = self.late_state(page, result)
        if late:
            result.status, result.reason = late
            return result
        return result if result.text else self.no_text(page, result)

    def stateful(self, page: Page, state: State, **fields: Any) -> Extracted:
        """An `Extracted` for a page that is not an article."""
        status, reason = state
        title = fields.pop("title", None) or page.first("//title")
        return Extracted(status=status, reason=reason, extractor=self.name, title=title, **fields)

    def read(self, page: Page, body: Any) -> str:
        """Body text, from the container when there is one; from the article's own element
        when the page's text runs past it into other stories."""
        if body is not None:
            return read_container(page.tree, body, page.url, self.favor_recall, self.prune)
        text = read_page(page.tree, page.url, self.favor_recall, self.prune)
        own = self.own_article(page)
        if own is not None:
            own_text = own.text_content()  # C-fast; `recall` ignores whitespace anyway
            if len(own_text) >= 200 and recall(own_text, text) < 0.7:
                return read_container(page.tree, own, page.url, self.favor_recall, self.prune)
        return text

    def own_article(self, page: Page) -> Any:
        """The element holding the page's own story: `itemprop=articleBody`, or the one
        `<article>` (of several, the one with the page's headline), else None."""
        html = page.html
        if "<article" not in html and "articleBody" not in html:
            return None
        bodies = page.xpath('//*[@itemprop="articleBody"]')
        articles = page.xpath("//article")
        if len(bodies) == 1:
            return bodies[0]
        if len(articles) == 1:
            return articles[0]
        headline = page.first("//h1") or page.meta("og:title")
        if not articles or not headline:
            return None
        for article in articles:
            if headline in squash(article.text_content())[:2000]:
                return article
        return None

    def guessed_metadata(self, page: Page, stated: dict[str, Any]) -> dict[str, Any]:
        """trafilatura's metadata when a field of `guessed_fields` is not stated, else only the
        description and image tags (what trafilatura would have read for those)."""
        known = {name for name, value in stated.items() if value}
        if self.site:
            known.add("site")
        if not self.guess_date:  # trafilatura's date would not be taken anyway
            known.add("published")
        if not known.issuperset(self.guessed_fields):
            return guess_metadata(page.tree, page.url)
        return {
            "description": page.meta("og:description", "description", "twitter:description"),
            "image": page.meta("og:image", "twitter:image", "twitter:image:src"),
        }

    def assemble(self, page: Page, body: Any, text: str) -> Extracted:
        """Merge the site's metadata, the page's own and trafilatura's into an `Extracted`."""
        site_meta = self.metadata(page, body)
        extra: dict[str, Any] = dict(site_meta.pop("extra", None) or {})
        stated = {k: v for k, v in self.page_metadata(page).items() if v}
        stated.update({k: v for k, v in site_meta.items() if v not in (None, "", [])})
        meta = self.guessed_metadata(page, stated)
        fields: dict[str, Any] = {
            "title": meta.get("title"),
            "author": meta.get("author"),
            "published": meta.get("date") if self.guess_date else None,
            "site": meta.get("sitename") or self.site,
            "description": meta.get("description"),
        }
        fields.update(stated)
        text = strip_boilerplate(text, DROP_LINES + self.drop_lines, self.end_lines)
        title = _clean_title(fields.get("title"))
        if title and text.startswith(title):  # the h1 repeated as the first line of the body
            first, _, rest = text.partition("\n")
            if first.strip() == title:
                text = rest
        guessed = guess_language(f"{fields.get('title') or ''}\n{text}")
        declared = page.declared_language
        language = (
            fields.pop("language", None)
            or self.language
            or (guessed if guessed == "zh" or not declared else declared)
        )
        images = fields.pop("images", None)
        if images is None:
            # the generic path has no container: the element that holds the extracted text
            images = self.images(page, body if body is not None else text_element(page.tree, text))
        if meta.get("image") and "cover" not in extra:
            extra["cover"] = meta["image"]
        author = squash(fields.get("author")) or None
        if not plausible_author(author, fields.get("site") or self.site, self.outlet_authors):
            author = None
        return Extracted(
            status=Status.ARCHIVED,
            extractor=self.name,
            title=title,
            author=author,
            published=fields.get("published"),
            site=_clean_site(fields.get("site")),
            language=language,
            description=squash(fields.get("description")) or None,
            text=text,
            canonical_url=fields.get("canonical_url"),
            images=images[:IMAGES_MAX],
            extra=extra,
            styles=self.styles(page),
        )

    def page_metadata(self, page: Page) -> dict[str, Any]:
        """Metadata from standard tags, better than guesses: the date from
        `article:published_time`, then JSON-LD, then other date metas; title and site from Open
        Graph; the author from its meta, else JSON-LD's (a person, not an organization)."""
        found: dict[str, Any] = {}
        article = self.ld_article(page)
        for published in (
            page.meta("article:published_time"),
            str(article.get("datePublished") or "") if article else None,
            page.meta(
                "datePublished", "pubdate", "publishdate", "PubDate", "publish_date",
                "og:release_date", "article:published", "sailthru.date", "parsely-pub-date",
            ),
        ):  # fmt: skip
            date = parse_date(published, self.tz) if published else None
            if date:
                found["published"] = date
                break
        title = page.meta("og:title")
        if title:
            found["title"] = title
        site = page.meta("og:site_name")
        if site:
            found["site"] = site
        author = page.meta("article:author", "author", "parsely-author", "sailthru.author")
        if not author or author.startswith("http"):
            author = ld_author(article) if article else None
        if author and not author.startswith("http"):
            found["author"] = author
        return found

    def ld_article(self, page: Page) -> dict[str, Any] | None:
        """The JSON-LD item that describes the article (an Article type first), else None."""
        if "ld+json" not in page.html:
            return None
        typed = []
        for item in page.json_ld:
            kinds = item.get("@type")
            kinds = set(kinds) if isinstance(kinds, list) else {kinds}
            if kinds & ARTICLE_TYPES:
                typed.append((0 if kinds - {"WebPage"} else 1, item))
        typed.sort(key=lambda pair: pair[0])
        return typed[0][1] if typed else None

    def images(self, page: Page, body: Any) -> list[str]:
        """Image URLs of the body in order, absolute, deduplicated: lazy-load attributes first,
        then `src` (unless a data: placeholder), then the largest `srcset` candidate; data:
        URIs and inline SVG stay in the page; images in the body's navigation, asides and
        footers, and 1-pixel trackers, are not the article's."""
        if body is None:
            return []
        seen: dict[str, None] = {}
        for img in body.iter("img"):
            tracker = img.get("width") in ("0", "1") or img.get("height") in ("0", "1")
            if tracker or _chrome(img, body):
                continue
            url = absolute(image_source(img), page.url)
            if url:
                seen.setdefault(url, None)
        return list(seen)

    def styles(self, page: Page) -> list[str]:
        """Stylesheets the page links (`<link rel=stylesheet>`, preloaded styles and fonts) and
        what its `<style>` blocks import and load as fonts, absolute, in order."""
        tree = page.tree
        if tree is None:
            return []
        found: dict[str, None] = {}
        for link in tree.iter("link"):
            rel = (link.get("rel") or "").lower().split()
            wanted = ("stylesheet" in rel and "alternate" not in rel) or (
                "preload" in rel and (link.get("as") or "").lower() in ("style", "font")
            )
            url = absolute(link.get("href"), page.url) if wanted else None
            if url and url.startswith(("http://", "https://")):
                found.setdefault(url, None)
        for style in tree.iter("style"):
            imports, loads = css_references(style.text or "", page.url)
            for url in imports + [u for u, kind in loads if kind == Requisite.FONT]:
                found.setdefault(url, None)
        return list(found)[:STYLES_MAX]

    def extract_json(self, url: str, text: str, media_type: str | None) -> Extracted:
        """A JSON body (an API response): kept as it is; a site read through its API reads it."""
        return Extracted(
            status=Status.ARCHIVED, extractor="text", text=text, extra={"content_type": media_type}
        )

    def json_data(self, text: str) -> Any:
        """The parsed JSON of a body, None when it is not JSON."""
        try:
            return json.loads(text)
        except ValueError:
            return None

    def extract_xml(self, url: str, text: str) -> Extracted:
        """A non-HTML XML body (feed, sitemap): its text content, archived as is."""
        try:
            root = etree.fromstring(parseable(text).encode())
            content = "\n".join(
                s.strip() for s in root.itertext() if isinstance(s, str) and s.strip()
            )
        except (etree.XMLSyntaxError, ValueError):
            content = text
        return Extracted(
            status=Status.ARCHIVED,
            extractor="text",
            text=content,
            extra={"content_type": "application/xml"},
        )


#: At most this many image URLs are kept per article (a page of thousands stays bounded).
IMAGES_MAX = 1000
#: At most this many stylesheet and font URLs are read from a page.
STYLES_MAX = 100
#: Lazy-load attributes that hold an image's real URL, in the order they are trusted.
LAZY_SOURCES = (
    "data-src",
    "data-original",
    "data-lazy-src",
    "data-actualsrc",
    "data-original-src",
    "data-lazyload",
    "data-url",
    "data-echo",
    "data-hi-res-src",
)
_CHROME_TAGS = frozenset({"nav", "aside", "footer", "header", "form", "button"})


def image_source(img: Any) -> str | None:
    """The URL an `<img>` shows once its page's scripts have run: a lazy-load attribute, else
    its `src` (a data: placeholder is skipped), else the largest `srcset` candidate."""
    for name in LAZY_SOURCES:
        value = (img.get(name) or "").strip()
        if value and not value.startswith("data:"):
            return value
    src = (img.get("src") or "").strip()
    if src and not src.startswith("data:"):
        return src
    for name in ("data-srcset", "srcset", "data-lazy-srcset"):
        best = srcset_best(img.get(name) or "")
        if best:
            return best
    return None


def _chrome(node: Any, body: Any) -> bool:
    """Whether a node of the body sits in its navigation, an aside, a footer or a form."""
    for ancestor in node.iterancestors():
        if ancestor is body:
            return False
        if ancestor.tag in _CHROME_TAGS:
            return True
    return False


def ld_author(item: dict[str, Any]) -> str | None:
    """The names of a JSON-LD item's authors that are people, joined ("A, B"), else None."""
    authors = item.get("author")
    names: list[str] = []
    for author in authors if isinstance(authors, list) else [authors]:
        if isinstance(author, str):
            names.append(author)
        elif isinstance(author, dict) and author.get("@type") != "Organization":
            name = author.get("name")
            if isinstance(name, str):
                names.append(name)
    names = [squash(name) for name in names if squash(name)]
    return ", ".join(dict.fromkeys(names)) or None


def _clean_site(site: str | None) -> str | None:
    """A site name; trafilatura's fallbacks ("https://www.caixin.com") reduced to the host."""
    site = squash(site)
    if re.match(r"^(?:https?://)?(?:www\.)?[\w\-]+(?:\.[\w\-]+)+/?$", site):
        site = re.sub(r"^(?:https?://)?(?:www\.)?", "", site).rstrip("/")
    return site or None


def _clean_title(title: str | None) -> str | None:
    """A title as text: entities decoded, whitespace squashed (None when empty)."""
    title = squash(htmllib.unescape(title or ""))
    return title or None
