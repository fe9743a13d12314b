"""URL canonicalisation: one spelling, and one id, per cited resource.

Pure functions, no Scrapy. `canonicalize` maps the many spellings a digest uses for the same
article to one URL; `url_id` names it. Rules, in order:

* Only absolute ``http``/``https`` URLs of at most `MAX_URL_LENGTH` characters, as written and
  once escaped; anything else raises `InvalidURL` saying what is wrong. `MAX_URL_LENGTH` is
  also Scrapy's URLLENGTH_LIMIT (crawler/settings.py): no URL accepted here is dropped there.
* Tabs and newlines anywhere and surrounding whitespace are removed (as browsers do).
* Scheme and host are lower-cased, unicode hosts IDNA-encoded (punycode), one trailing dot of
  the host dropped, IPv6 literals compressed, default ports dropped.
* Userinfo: a password (``user:pw@host``) raises `InvalidURL`: we never send credentials found
  in untrusted links, nor archive them. A bare user name is dropped, it names no resource.
* Percent-encoding is normalised: escapes of unreserved characters decoded, other escapes
  upper-cased, characters that must be escaped (spaces, non-ASCII as UTF-8, ``"<>`` ...)
  escaped; ``.``/``..`` path segments removed; an empty path becomes ``/``.
* The fragment is dropped, and so are the query parameters in `TRACKING_PARAMS` (and any
  ``utm_*``); the remaining parameters are sorted by name, stably (repeated names keep their
  order).
* Site rules: see `_wechat`, `_arxiv`, `_github`. WeChat, arXiv and GitHub are https-only
  sites, so their URLs are made https; other sites keep their scheme.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import string
from urllib.parse import parse_qs, quote, unquote, urlsplit

import idna

MAX_URL_LENGTH = 4096

#: Query parameters that only track who shared or clicked a link (compared lower-cased, after
#: percent-decoding). Any parameter whose name starts with ``utm_`` is dropped as well.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        # Web analytics and ad click ids
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "_ga", "_gl", "igshid", "si",
        "ref_src", "ref_url", "ocid", "vero_id", "oly_anon_id", "oly_enc_id", "wickedid",
        # Alibaba / Taobao / Bilibili / Baidu share tracking
        "spm", "spm_id_from", "vd_source", "share_source", "share_medium", "share_plat",
        "share_session_id", "share_tag", "share_from", "share_token", "unique_k", "bbid",
        "bd_vid",
        # WeChat app share and session parameters (also appended to non-WeChat links)
        "from", "isappinstalled", "scene", "subscene", "ascene", "clicktime", "enterid",
        "chksm", "sessionid", "pass_ticket", "wx_header", "exportkey", "devicetype",
        "poc_token", "nwr_flag", "xtrack", "acctmode", "sharer_sharetime", "sharer_shareid",
        "sharer_shareinfo", "sharer_shareinfo_first", "rd2werd",
    }
)  # fmt: skip

_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_SUB_DELIMS = "!$&'()*+,;="
_PATH_SAFE = _UNRESERVED | frozenset(_SUB_DELIMS + ":@/")
_QUERY_PART_SAFE = _UNRESERVED | frozenset("!$'()*+,;=:@/?")  # no "&": it separates parts
_HEX_PAIRS = frozenset(a + b for a in string.hexdigits for b in string.hexdigits)
_HOST_RE = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_DEFAULT_PORTS = {"http": 80, "https": 443}

_WECHAT_HOST = "mp.weixin.qq.com"
_WECHAT_KEEP = ("__biz", "mid", "idx", "sn")
_ARXIV_HOSTS = frozenset({"arxiv.org", "www.arxiv.org", "export.arxiv.org"})
_ARXIV_NEW_ID = r"\d{4}\.\d{4,5}"
_ARXIV_OLD_ID = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"
#: An arXiv identifier ("2106.09608", "hep-th/9901001") and its version.
ARXIV_ID = re.compile(rf"(?P<id>{_ARXIV_NEW_ID}|{_ARXIV_OLD_ID})(?P<version>v\d+)?")
_ARXIV_PAPER_RE = re.compile(
    rf"/(?:abs|pdf|html)/(?P<id>{_ARXIV_NEW_ID}|{_ARXIV_OLD_ID})(?:v\d+)?(?:\.pdf)?/?",
    re.IGNORECASE,
)
_ARXIV_PATH = re.compile(
    rf"^/(?:abs|pdf|html|format|ps|src)/(?P<id>{_ARXIV_NEW_ID}|{_ARXIV_OLD_ID})(?:v\d+)?"
    r"(?:\.pdf)?/?$"
)
_GITHUB_HOSTS = frozenset({"github.com", "www.github.com"})


class InvalidURL(ValueError):
    """A URL that cannot be crawled; the message says what is wrong with it."""


def url_id(canonical_url: str) -> str:
    """Stable id of a canonical URL: the first 32 hex digits of its SHA-256."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:32]


def canonicalize(url: str) -> str:
    """Return the canonical form of an absolute http(s) URL; raise InvalidURL."""
    url = re.sub(r"[\t\r\n]", "", url.strip())
    if not url:
        raise InvalidURL("empty URL")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURL(f"URL longer than {MAX_URL_LENGTH} characters ({len(url)})")
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise InvalidURL(f"malformed URL: {e}") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise InvalidURL("missing scheme")
    if scheme not in _DEFAULT_PORTS:
        raise InvalidURL(f"unsupported scheme {scheme!r}")
    host, port = _split_netloc(parts.netloc)
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    path = _remove_dot_segments(_normalize_escapes(parts.path, _PATH_SAFE)) or "/"
    params = [_normalize_escapes(p, _QUERY_PART_SAFE) for p in parts.query.split("&") if p]

    for rule in (_wechat, _arxiv, _github):
        ruled = rule(host, path, params)
        if ruled is not None:
            host, path, params = ruled
            scheme, port = "https", (None if port in (80, 443) else port)
            break
    else:
        params = sorted((p for p in params if not _is_tracking(p)), key=_param_name)

    netloc = host if port is None else f"{host}:{port}"
    query = "&".join(params)
    canonical = f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "")
    if len(canonical) > MAX_URL_LENGTH:  # escaping makes a URL longer (9 characters a 汉字)
        raise InvalidURL(
            f"URL longer than {MAX_URL_LENGTH} characters once escaped ({len(canonical)})"
        )
    return canonical


def _split_netloc(netloc: str) -> tuple[str, int | None]:
    """Validate the authority; return the normalised host and the port (or None)."""
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        raise InvalidURL("credentials (user:password@) in URL")
    if "\\" in netloc:
        raise InvalidURL(f"backslash in authority {netloc!r}")
    if hostport.startswith("["):
        end = hostport.find("]")
        raw_host, rest = hostport[1:end], hostport[end + 1 :]
        if end < 0 or (rest and not rest.startswith(":")):
            raise InvalidURL(f"invalid IPv6 host {hostport!r}")
        try:
            host = f"[{ipaddress.IPv6Address(raw_host).compressed}]"
        except ValueError:
            raise InvalidURL(f"invalid IPv6 host {hostport!r}") from None
        raw_port = rest[1:] if rest else ""
    else:
        raw_host, _, raw_port = hostport.partition(":")
        host = _normalize_host(raw_host)
    if not raw_port:
        return host, None
    if not raw_port.isascii() or not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        raise InvalidURL(f"invalid port {raw_port!r}")
    return host, int(raw_port)


def _normalize_host(raw: str) -> str:
    """Lower-case and IDNA-encode a registered name or IPv4 host."""
    if not raw:
        raise InvalidURL("missing host")
    host = raw.lower()
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError:
            try:
                host = host.encode("idna").decode("ascii")
            except UnicodeError:
                raise InvalidURL(f"invalid host {raw!r}") from None
    if host.endswith("."):
        host = host[:-1]
    if not _HOST_RE.fullmatch(host):
        raise InvalidURL(f"invalid host {raw!r}")
    return host


def _normalize_escapes(text: str, safe: frozenset[str]) -> str:
    """Decode escapes of unreserved characters, upper-case the others, escape unsafe ones."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "%" and text[i + 1 : i + 3] in _HEX_PAIRS:
            decoded = chr(int(text[i + 1 : i + 3], 16))
            out.append(decoded if decoded in _UNRESERVED else text[i : i + 3].upper())
            i += 3
            continue
        if c in safe:
            out.append(c)
        else:
            out.extend(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4: resolve ``.`` and ``..`` segments of an absolute path."""
    if "." not in path:
        return path
    segments = path.split("/")
    out: list[str] = []
    for seg in segments[1:]:
        if seg == "..":
            if out:
                out.pop()
        elif seg != ".":
            out.append(seg)
    if segments[-1] in (".", ".."):
        out.append("")
    return "/" + "/".join(out)


def _param_name(param: str) -> str:
    return param.partition("=")[0]


def _is_tracking(param: str) -> bool:
    name = unquote(_param_name(param)).lower()
    return name in TRACKING_PARAMS or name.startswith("utm_")


Ruled = tuple[str, str, list[str]]


def _wechat(host: str, path: str, params: list[str]) -> Ruled | None:
    """mp.weixin.qq.com: ``/s/<id>`` keeps no query; ``/s`` and ``/mp/appmsg/show`` keep exactly
    ``__biz``, ``mid``, ``idx``, ``sn`` in that order (``%3D`` padding decoded); a long link
    with none of those four only loses its tracking parameters."""
    if host != _WECHAT_HOST:
        return None
    if path == "/s/":
        path = "/s"
    elif path.startswith("/s/"):
        return host, path, []
    by_name: dict[str, str] = {}
    for p in params:
        by_name.setdefault(_param_name(p), p)
    kept = [by_name[k].replace("%3D", "=") for k in _WECHAT_KEEP if k in by_name]
    if path in ("/s", "/mp/appmsg/show") and kept:
        return host, path, kept
    return host, path, sorted((p for p in params if not _is_tracking(p)), key=_param_name)


def _arxiv(host: str, path: str, params: list[str]) -> Ruled | None:
    """arXiv: any abs/pdf/html link to a paper becomes ``https://arxiv.org/abs/<id>``, the
    paper's id without its version: digests cite the paper, the archive keeps its latest
    version. Other arXiv pages stay on their host, made https."""
    if host not in _ARXIV_HOSTS:
        return None
    m = _ARXIV_PAPER_RE.fullmatch(path)
    if m:
        return "arxiv.org", f"/abs/{m['id']}", []
    return host, path, sorted((p for p in params if not _is_tracking(p)), key=_param_name)


def _github(host: str, path: str, params: list[str]) -> Ruled | None:
    """github.com (``www.`` dropped): owner and repository names are case-insensitive, so they
    are lower-cased; a ``.git`` suffix and a trailing slash on a repository root go. Deeper
    path segments (branches, files) keep their case."""
    if host not in _GITHUB_HOSTS:
        return None
    segments = path.split("/")  # ["", owner, repo, ...]
    segments[1:3] = [s.lower() for s in segments[1:3]]
    if len(segments) >= 3 and segments[2].endswith(".git"):
        segments[2] = segments[2][: -len(".git")]
    path = "/".join(segments)
    root = path.rstrip("/")
    if root and root.count("/") <= 2:  # "/owner/" or "/owner/repo/"
        path = root
    params = sorted((p for p in params if not _is_tracking(p)), key=_param_name)
    return "github.com", path, params


def arxiv_id(url: str) -> str | None:
    """The arXiv identifier (without version) of an abs/pdf/html link or a one-id API query.

    "https://arxiv.org/pdf/2106.09608v2.pdf" -> "2106.09608"; "arxiv.org/abs/hep-th/9901001" ->
    "hep-th/9901001"; anything else -> None.
    """
    if not url:
        return None
    if "://" not in url:
        url = "https://" + url
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return None
    if host != "arxiv.org" and not host.endswith(".arxiv.org"):
        return None
    match = _ARXIV_PATH.match(parts.path)
    if match:
        return match.group("id")
    ids = [i for value in parse_qs(parts.query).get("id_list", []) for i in value.split(",") if i]
    if len(ids) == 1 and (one := ARXIV_ID.fullmatch(ids[0].strip())):
        return one.group("id")
    return None


def documents(url: str) -> list[str]:
    """Other forms of the article at `url` worth storing beside it: an arXiv paper's PDF."""
    paper = arxiv_id(url)
    return [f"https://arxiv.org/pdf/{paper}"] if paper else []


# ---- sites read through an API endpoint: the cited URL names the page, another is fetched

_X_HOSTS = frozenset(
    {"x.com", "www.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com", "mobile.x.com"}
)
_X_STATUS = re.compile(r"^/(?P<user>\w{1,30})/status(?:es)?/(?P<id>\d{5,25})(?:/|$)")
_DISCOURSE_HOSTS = frozenset({"linux.do"})
_DISCOURSE_TOPIC = re.compile(r"^/t/(?:[^/]+/)?(?P<id>\d+)(?:/\d+)?/?$")


def fetch_url(canonical_url: str) -> str:
    """The URL to request for a cited page: the site's public API where its page cannot be read
    without running scripts, else the page itself.

    * x.com / twitter.com posts: the public oEmbed endpoint (``publish.twitter.com/oembed``),
      which answers without login with the post's text, author, handle and date.
    * linux.do (Discourse) topics: the topic's JSON (``/t/<id>.json``).

    The archive still files the page under its canonical URL; the WARC keeps the API response
    as served.
    """
    try:
        parts = urlsplit(canonical_url)
    except ValueError:
        return canonical_url
    host = (parts.hostname or "").lower()
    if host in _X_HOSTS and (match := _X_STATUS.match(parts.path)):
        post = f"https://twitter.com/{match['user']}/status/{match['id']}"
        return f"https://publish.twitter.com/oembed?url={quote(post, safe='')}&omit_script=1&dnt=1"
    if host in _DISCOURSE_HOSTS and (match := _DISCOURSE_TOPIC.match(parts.path)):
        return f"https://{host}/t/{match['id']}.json"
    return canonical_url
