"""Tests for crawler.netsafety: no untrusted link may reach the crawling host's own network.

The crawl tests run real `scrapy runspider` subprocesses (the reactor cannot restart in one
process) against loopback servers, and check the servers' logs: a refused request must never
arrive. Nothing here touches the internet: hosts are IP literals, `localhost`, or names that a
stub resolver answers.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from scrapy import Request
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler
from twisted.internet import defer
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import DNSLookupError
from werkzeug import Response

from crawler import netsafety
from crawler.middlewares.netsafety import NetworkSafetyMiddleware
from crawler.netsafety import (
    Allowlist,
    RefusedAddress,
    RefusedURL,
    SafeResolver,
    check_host,
    host_refusal,
)

REPO = Path(__file__).resolve().parents[1]
LOOPBACK = ["127.0.0.1/8", "::1/128"]

# --- check_host ----------------------------------------------------------------------------

REFUSED = [
    ("127.0.0.1", "loopback address 127.0.0.1"),
    ("127.8.9.10", "loopback address 127.8.9.10"),
    ("::1", "loopback address ::1"),
    ("[::1]", "loopback address ::1"),
    ("::ffff:127.0.0.1", "loopback address ::ffff:7f00:1 (IPv4-mapped 127.0.0.1)"),
    ("[::ffff:169.254.169.254]", "link-local address"),
    ("localhost", "localhost name 'localhost'"),
    ("localhost.", "localhost name"),
    ("LOCALHOST", "localhost name"),
    ("api.localhost", "localhost name"),
    ("127.0.0.1.", "loopback address 127.0.0.1"),
    ("169.254.169.254", "link-local address 169.254.169.254"),
    ("fe80::1", "link-local address fe80::1"),
    ("0.0.0.0", "unspecified address 0.0.0.0"),
    ("::", "unspecified address ::"),
    ("10.0.0.1", "private address 10.0.0.1"),
    ("172.16.5.4", "private address 172.16.5.4"),
    ("192.168.1.1", "private address 192.168.1.1"),
    ("fc00::1", "private address fc00::1"),
    ("fd12:3456::1", "private address fd12:3456::1"),
    ("224.0.0.1", "multicast address 224.0.0.1"),
    ("ff02::1", "multicast address ff02::1"),
    ("240.0.0.1", "reserved address 240.0.0.1"),
    ("255.255.255.255", "reserved address 255.255.255.255"),
    ("100.64.0.1", "reserved address 100.64.0.1"),
    ("::7f00:1", "reserved address ::7f00:1"),
    ("2130706433", "non-canonical numeric host '2130706433' (= 127.0.0.1)"),
    ("0x7f.1", "non-canonical numeric host '0x7f.1' (= 127.0.0.1)"),
    ("0x7F000001", "(= 127.0.0.1)"),
    ("017700000001", "non-canonical numeric host '017700000001' (= 127.0.0.1)"),
    ("0177.0.0.1", "(= 127.0.0.1)"),
    ("127.1", "(= 127.0.0.1)"),
    ("3232235777", "(= 192.168.1.1)"),
    ("134744072", "(= 8.8.8.8)"),  # numeric spellings are refused, public or not
    ("1.2.3.4.5", "non-canonical numeric host '1.2.3.4.5'"),
    ("08.1.1.1", "non-canonical numeric host '08.1.1.1'"),
    ("example.0x1", "non-canonical numeric host"),
    ("", "empty host"),
]

ALLOWED = [
    "example.com",
    "mp.weixin.qq.com",
    "8.8.8.8",
    "2606:4700:4700::1111",
    "[2001:4860:4860::8888]",
    "1.2.3.4.example.com",
    "localhost.example.com",
    "xn--fsqu00a.xn--0zwm56d",
    "例子.测试",
]


@pytest.mark.parametrize(("host", "reason"), REFUSED)
def test_check_host_refuses(host: str, reason: str) -> None:
    assert reason in (check_host(host, []) or "")


@pytest.mark.parametrize("host", ALLOWED)
def test_check_host_allows_public(host: str) -> None:
    assert check_host(host, []) is None


@pytest.mark.parametrize(
    ("host", "allowed", "ok"),
    [
        ("127.0.0.1", LOOPBACK, True),
        ("127.0.0.1", ["127.0.0.1"], True),
        ("127.0.0.2", ["127.0.0.1/32"], False),
        ("localhost", LOOPBACK, True),
        ("localhost", ["127.0.0.1/32"], True),
        ("localhost", ["::1/128"], True),
        ("localhost", ["10.0.0.0/8"], False),
        ("localhost", ["LocalHost"], True),
        ("::1", ["127.0.0.1/8"], False),
        ("[::1]", ["[::1]"], True),
        ("::ffff:127.0.0.1", ["127.0.0.1/8"], True),
        ("10.1.2.3", ["10.0.0.0/8"], True),
        ("10.1.2.3", [ipaddress.ip_network("10.0.0.0/8")], True),
        ("192.168.1.1", ["10.0.0.0/8"], False),
        ("169.254.169.254", LOOPBACK, False),
        ("2130706433", LOOPBACK, False),  # odd spellings stay refused
        ("intranet", ["intranet"], True),
        ("INTRANET.", ["intranet"], True),
    ],
)
def test_check_host_allowed_networks(host: str, allowed: list[Any], ok: bool) -> None:
    assert (check_host(host, allowed) is None) is ok


def test_refusal_kinds() -> None:
    none = Allowlist()
    assert host_refusal("127.0.0.1", none) == ("loopback", "loopback address 127.0.0.1")
    assert host_refusal("localhost", none)[0] == "loopback"  # type: ignore[index]
    assert host_refusal("0x7f.1", none)[0] == "numeric-host"  # type: ignore[index]
    assert host_refusal("169.254.169.254", none)[0] == "link-local"  # type: ignore[index]


def test_allowlist_from_settings() -> None:
    settings = Settings({"ALLOWED_PRIVATE_NETWORKS": "127.0.0.1/8, ::1/128,intranet.,"})
    allowlist = Allowlist.from_settings(settings)
    assert allowlist.networks == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    assert allowlist.names == {"intranet"}
    assert Allowlist.from_settings(Settings({"ALLOWED_PRIVATE_NETWORKS": ["10.0.0.0/8"]}))
    assert not Allowlist.from_settings(Settings({"ALLOWED_PRIVATE_NETWORKS": []}))
    assert not Allowlist.from_settings(Settings())


@pytest.mark.parametrize("entry", ["127.0.0.1/33", "10.0.0.0/8x", "fe80::zz", "host:80"])
def test_allowlist_rejects_bad_entries(entry: str) -> None:
    with pytest.raises(ValueError, match="ALLOWED_PRIVATE_NETWORKS"):
        Allowlist.parse([entry])


# --- SafeResolver, with a stub lookup (no reactor, no DNS) ---------------------------------


class StubLookup:
    """IResolverSimple answering from a table; each name may give a sequence of answers."""

    def __init__(self, table: dict[str, list[str]]):
        self.table = {k: list(v) for k, v in table.items()}
        self.asked: list[str] = []

    def getHostByName(self, name: str, timeout: Any = ()) -> defer.Deferred[str]:
        self.asked.append(name)
        answers = self.table.get(name)
        if not answers:
            return defer.fail(DNSLookupError(name))
        return defer.succeed(answers.pop(0) if len(answers) > 1 else answers[0])


class Receiver:
    """IResolutionReceiver recording what it is given."""

    def __init__(self) -> None:
        self.addresses: list[Any] = []
        self.began = self.complete = False

    def resolutionBegan(self, resolution: Any) -> None:
        self.began = True

    def addressResolved(self, address: Any) -> None:
        self.addresses.append(address)

    def resolutionComplete(self) -> None:
        self.complete = True


def resolve(resolver: SafeResolver, host: str, types: Any = None) -> list[Any]:
    receiver = Receiver()
    resolver.resolveHostName(receiver, host, 443, types)
    assert receiver.began and receiver.complete
    return receiver.addresses


def make_resolver(table: dict[str, list[str]], allowed: Sequence[str] = ()) -> SafeResolver:
    return SafeResolver(None, Allowlist.parse(allowed), StubLookup(table))


def test_resolver_delivers_public_addresses() -> None:
    resolver = make_resolver({"example.com": ["93.184.216.34"]})
    assert resolve(resolver, "example.com") == [IPv4Address("TCP", "93.184.216.34", 443)]


def test_resolver_refuses_names_resolving_to_private_addresses() -> None:
    resolver = make_resolver({"evil.test": ["127.0.0.1"], "meta.test": ["169.254.169.254"]})
    assert resolve(resolver, "evil.test") == []
    assert resolve(resolver, "meta.test") == []
    assert netsafety.resolver_refusal("evil.test") == (
        "loopback",
        "resolves to loopback address 127.0.0.1",
    )
    assert netsafety.resolver_refusal("META.TEST.")[0] == "link-local"  # type: ignore[index]


def test_resolver_checks_every_resolution() -> None:
    """DNS rebinding: a name that first resolves public, then private, is refused the 2nd time."""
    resolver = make_resolver({"rebind.test": ["93.184.216.34", "10.0.0.7"]})
    assert resolve(resolver, "rebind.test") == [IPv4Address("TCP", "93.184.216.34", 443)]
    assert resolve(resolver, "rebind.test") == []


def test_resolver_checks_literals_and_spellings_without_lookup() -> None:
    resolver = make_resolver({})
    for host in ["127.0.0.1", "::1", "localhost", "LOCALHOST.", "2130706433", "0x7f.1"]:
        assert resolve(resolver, host) == []
    assert resolver.lookup.asked == []  # type: ignore[attr-defined]
    assert resolve(resolver, "8.8.8.8") == [IPv4Address("TCP", "8.8.8.8", 443)]
    assert resolve(resolver, "2606:4700::1111") == [IPv6Address("TCP", "2606:4700::1111", 443)]
    assert resolve(resolver, "2606:4700::1111", [IPv4Address]) == []


def test_resolver_allowed_networks_and_names() -> None:
    table = {"localhost": ["127.0.0.1"], "intranet": ["10.1.1.1"], "other": ["10.2.2.2"]}
    resolver = make_resolver(table, ["127.0.0.1/32", "::1/128", "intranet"])
    assert resolve(resolver, "localhost") == [IPv4Address("TCP", "127.0.0.1", 443)]
    assert resolve(resolver, "::1") == [IPv6Address("TCP", "::1", 443)]
    assert resolve(resolver, "intranet") == [IPv4Address("TCP", "10.1.1.1", 443)]
    assert resolve(resolver, "other") == []
    assert resolve(resolver, "127.0.0.2") == []


def test_resolver_encodes_unicode_names() -> None:
    resolver = make_resolver({"xn--fsqu00a.xn--0zwm56d": ["10.0.0.1"]})
    assert resolve(resolver, "例子.测试") == []
    assert netsafety.resolver_refusal("xn--fsqu00a.xn--0zwm56d") is not None


def test_get_host_by_name_fails_with_refused_address() -> None:
    resolver = make_resolver({"example.com": ["93.184.216.34"], "evil.test": ["10.0.0.1"]})
    results: list[Any] = []
    resolver.getHostByName("example.com").addBoth(results.append)
    resolver.getHostByName("evil.test").addBoth(results.append)
    assert results[0] == "93.184.216.34"
    error = results[1].value
    assert isinstance(error, RefusedAddress) and isinstance(error, DNSLookupError)
    assert str(error) == (
        "refused to resolve evil.test: resolves to private address 10.0.0.1 "
        "(set ALLOWED_PRIVATE_NETWORKS to allow)"
    )


def test_resolver_installs_both_interfaces() -> None:
    class Reactor:
        resolver: Any = None
        name_resolver: Any = None

        def installNameResolver(self, resolver: Any) -> None:
            self.name_resolver = resolver
            self.resolver = object()

    reactor = Reactor()
    resolver = SafeResolver(reactor, Allowlist(), StubLookup({}))
    resolver.install_on_reactor()
    assert reactor.name_resolver is resolver and reactor.resolver is resolver


# --- NetworkSafetyMiddleware, in process -----------------------------------------------------


def make_middleware(allowed: str = "") -> NetworkSafetyMiddleware:
    crawler = get_crawler(settings_dict={"ALLOWED_PRIVATE_NETWORKS": allowed})
    return NetworkSafetyMiddleware.from_crawler(crawler)


@pytest.mark.parametrize(
    ("url", "kind", "message"),
    [
        (
            "http://169.254.169.254/latest/meta-data/",
            "link-local",
            "refused http://169.254.169.254/latest/meta-data/: link-local address "
            "169.254.169.254 (set ALLOWED_PRIVATE_NETWORKS to allow)",
        ),
        ("http://127.0.0.1:8080/", "loopback", "loopback address 127.0.0.1"),
        ("http://[::ffff:127.0.0.1]/", "loopback", "IPv4-mapped 127.0.0.1"),
        ("https://LOCALHOST./x", "loopback", "localhost name"),
        ("http://0x7f.1/", "numeric-host", "(= 127.0.0.1)"),
        ("http://10.0.0.1/", "private", "private address 10.0.0.1"),
        ("file:///etc/passwd", "scheme", "refused file:///etc/passwd: unsupported scheme 'file'"),
        ("ftp://example.com/x", "scheme", "unsupported scheme 'ftp'"),
        ("data:text/plain,hi", "scheme", "unsupported scheme 'data'"),
    ],
)
def test_middleware_refuses(url: str, kind: str, message: str) -> None:
    mw = make_middleware()
    with pytest.raises(RefusedURL) as info:
        mw.process_request(Request(url))
    assert isinstance(info.value, IgnoreRequest)
    assert message in str(info.value)
    assert mw.crawler.stats.get_value(f"sources/refused/{kind}") == 1  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "url", ["https://example.com/", "http://www.ithome.com/0/1/2.htm", "https://8.8.8.8/"]
)
def test_middleware_passes_public(url: str) -> None:
    mw = make_middleware()
    assert mw.process_request(Request(url)) is None
    assert mw.crawler.stats.get_stats() == {}  # type: ignore[union-attr]


def test_middleware_allowed_networks() -> None:
    mw = make_middleware("127.0.0.1/8,::1/128")
    for url in ["http://127.0.0.1:8080/", "http://localhost/", "http://[::1]/"]:
        assert mw.process_request(Request(url)) is None
    with pytest.raises(RefusedURL):
        mw.process_request(Request("http://192.168.0.1/"))


def test_middleware_turns_resolver_refusals_into_refused_url() -> None:
    make_resolver({"internal.test": ["192.168.7.7"]}).resolveHostName(Receiver(), "internal.test")
    mw = make_middleware()
    request = Request("https://internal.test/page")
    with pytest.raises(RefusedURL, match=r"resolves to private address 192\.168\.7\.7"):
        mw.process_exception(request, CannotResolveHostError("no results"))
    assert mw.crawler.stats.get_value("sources/refused/private") == 1  # type: ignore[union-attr]
    # other exceptions, and lookups that simply failed, are left to Scrapy (retries, errbacks)
    assert mw.process_exception(request, ValueError("x")) is None
    other = Request("https://unresolvable.test/")
    assert mw.process_exception(other, CannotResolveHostError("no results")) is None


# --- real crawls in subprocesses ------------------------------------------------------------

SPIDER = """
import json

import scrapy


class Probe(scrapy.Spider):
    name = "probe"

    async def start(self):
        self.results = []
        for url in self.urls.split():
            yield scrapy.Request(url, callback=self.ok, errback=self.err, dont_filter=True)

    def ok(self, response):
        self.results.append({"url": response.url, "status": response.status,
                             "flags": response.flags,
                             "redirects": response.meta.get("redirect_urls", [])})

    def err(self, failure):
        self.results.append({"url": failure.request.url, "error": type(failure.value).__name__,
                             "message": str(failure.value),
                             "redirects": failure.request.meta.get("redirect_urls", [])})

    def closed(self, reason):
        with open(self.out, "w") as f:
            json.dump({"results": self.results, "stats": self.crawler.stats.get_stats()}, f,
                      default=str)
"""

STUB_DNS = """
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

from crawler.netsafety import SafeResolver

HOSTS = {"public.test": "127.0.0.1", "internal.test": "127.0.0.2"}


class StubLookup:
    def getHostByName(self, name, timeout=()):
        if name in HOSTS:
            return defer.succeed(HOSTS[name])
        return defer.fail(DNSLookupError(name))


class StubbedSafeResolver(SafeResolver):
    @classmethod
    def lookup_from_crawler(cls, crawler, reactor):
        return StubLookup()
"""

SAFE_RESOLVER = "crawler.netsafety.SafeResolver"
STUB_RESOLVER = "stubdns.StubbedSafeResolver"
MIDDLEWARE = '{"crawler.middlewares.netsafety.NetworkSafetyMiddleware": 960}'


def crawl(
    tmp_path: Path,
    urls: list[str],
    *,
    allowed: str | None = None,
    resolver: str | None = SAFE_RESOLVER,
    middleware: bool = True,
    settings: dict[str, str] | None = None,
) -> dict[str, Any]:
    """`scrapy runspider` a probe spider fetching urls; return its results, stats and log."""
    (tmp_path / "probe.py").write_text(SPIDER)
    (tmp_path / "stubdns.py").write_text(STUB_DNS)
    out = tmp_path / "out.json"
    options = {
        "TELNETCONSOLE_ENABLED": "False",
        "LOG_LEVEL": "INFO",
        "DOWNLOAD_TIMEOUT": "5",
        **(settings or {}),
    }
    if resolver:
        options["TWISTED_DNS_RESOLVER"] = resolver
    if middleware:
        options["DOWNLOADER_MIDDLEWARES"] = MIDDLEWARE
    if allowed is not None:
        options["ALLOWED_PRIVATE_NETWORKS"] = allowed
    args = [sys.executable, "-m", "scrapy", "runspider", "probe.py"]
    args += ["-a", f"out={out}", "-a", f"urls={' '.join(urls)}"]
    for name, value in options.items():
        args += ["-s", f"{name}={value}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRAPY_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(tmp_path)])
    # cwd without scrapy.cfg: the project's settings stay out of these runs
    proc = subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert out.exists(), proc.stderr[-3000:]
    result = json.loads(out.read_text())
    result["log"] = proc.stderr
    result["by_url"] = {r["url"]: r for r in result["results"]}
    return result


def paths(server: HTTPServer) -> list[str]:
    return [request.path for request, _ in server.log]


def refused_stats(result: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in result["stats"].items() if k.startswith("sources/refused/")}


@pytest.fixture
def server_127_0_0_2() -> Iterator[HTTPServer]:
    """A second loopback server, on 127.0.0.2."""
    server = HTTPServer(host="127.0.0.2", port=0)
    server.expect_request("/secret").respond_with_data("secret")
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def ipv4(httpserver_ipv4: HTTPServer) -> HTTPServer:
    httpserver_ipv4.expect_request("/page").respond_with_data("<html>ok</html>")
    return httpserver_ipv4


@pytest.fixture
def ipv6(httpserver_ipv6: HTTPServer) -> HTTPServer:
    httpserver_ipv6.expect_request("/secret").respond_with_data("secret")
    return httpserver_ipv6


def test_crawl_refuses_loopback_by_default(tmp_path: Path, ipv4: HTTPServer) -> None:
    port = ipv4.port
    urls = [
        f"http://127.0.0.1:{port}/page",
        f"http://localhost:{port}/page",
        f"http://2130706433:{port}/page",
        f"http://0x7f.1:{port}/page",
    ]
    result = crawl(tmp_path, urls)
    assert paths(ipv4) == []
    for url in urls:
        assert result["by_url"][url]["error"] == "RefusedURL", result["by_url"][url]
    assert "refused http://127.0.0.1:" in result["by_url"][urls[0]]["message"]
    assert refused_stats(result) == {
        "sources/refused/loopback": 2,
        "sources/refused/numeric-host": 2,
    }
    assert "retry/count" not in result["stats"]
    assert "ALLOWED_PRIVATE_NETWORKS is set" not in result["log"]


def test_crawl_resolver_alone_refuses_before_connecting(
    tmp_path: Path, ipv4: HTTPServer, ipv6: HTTPServer
) -> None:
    """Without the middleware, the resolver still stops literals and names: no connection."""
    urls = [
        f"http://127.0.0.1:{ipv4.port}/page",
        f"http://localhost:{ipv4.port}/page",
        f"http://[::1]:{ipv6.port}/secret",
    ]
    result = crawl(tmp_path, urls, middleware=False, settings={"RETRY_ENABLED": "False"})
    assert paths(ipv4) == [] and paths(ipv6) == []
    for url in urls:
        assert result["by_url"][url]["error"] == "CannotResolveHostError", result["by_url"][url]
    assert "refused to resolve 127.0.0.1: loopback address 127.0.0.1" in result["log"]
    assert "refused to resolve localhost: localhost name" in result["log"]
    assert "refused to resolve ::1: loopback address ::1" in result["log"]


@pytest.mark.parametrize("middleware", [True, False], ids=["middleware", "resolver-only"])
def test_crawl_refuses_redirect_hop_to_private_host(
    tmp_path: Path,
    ipv4: HTTPServer,
    ipv6: HTTPServer,
    server_127_0_0_2: HTTPServer,
    middleware: bool,
) -> None:
    """Only 127.0.0.1 is allowed; redirects from it to other loopback hosts are refused."""
    port, port2 = ipv4.port, server_127_0_0_2.port
    targets = {
        "/to-ip": f"http://127.0.0.2:{port2}/secret",
        "/to-name": f"http://internal.test:{port2}/secret",  # stub DNS: 127.0.0.2
        "/to-ipv6": f"http://[::1]:{ipv6.port}/secret",
    }
    for path, target in targets.items():
        ipv4.expect_request(path).respond_with_response(
            Response(status=302, headers={"Location": target})
        )
    start = [f"http://public.test:{port}/page"]  # stub DNS: 127.0.0.1, allowed
    start += [f"http://127.0.0.1:{port}{path}" for path in targets]
    result = crawl(
        tmp_path,
        start,
        allowed="127.0.0.1/32",
        resolver=STUB_RESOLVER,
        middleware=middleware,
        settings={"RETRY_ENABLED": "False"},
    )
    assert sorted(paths(ipv4)) == sorted(["/page", *targets])
    assert paths(server_127_0_0_2) == [] and paths(ipv6) == []
    assert result["by_url"][f"http://public.test:{port}/page"]["status"] == 200
    for path, target in targets.items():
        outcome = result["by_url"][target]
        assert outcome["redirects"] == [f"http://127.0.0.1:{port}{path}"]
        assert outcome["error"] == ("RefusedURL" if middleware else "CannotResolveHostError")
    if middleware:
        assert (
            "resolves to loopback address 127.0.0.2"
            in result["by_url"][targets["/to-name"]]["message"]
        )
        assert refused_stats(result) == {"sources/refused/loopback": 3}
    assert "ALLOWED_PRIVATE_NETWORKS is set: requests to 127.0.0.1/32 are allowed" in result["log"]


def test_crawl_allowed_networks_fetch(tmp_path: Path, ipv4: HTTPServer, ipv6: HTTPServer) -> None:
    urls = [
        f"http://127.0.0.1:{ipv4.port}/page",
        f"http://localhost:{ipv4.port}/page",
        f"http://[::1]:{ipv6.port}/secret",
    ]
    result = crawl(tmp_path, urls, allowed="127.0.0.1/8,::1/128")
    assert paths(ipv4) == ["/page", "/page"] and paths(ipv6) == ["/secret"]
    assert [result["by_url"][url].get("status") for url in urls] == [200, 200, 200]
    assert refused_stats(result) == {}
    assert result["log"].count("ALLOWED_PRIVATE_NETWORKS is set") == 1
    assert "requests to 127.0.0.0/8, ::1/128 are allowed" in result["log"]


def test_crawl_leaves_http_cache_replays_alone(tmp_path: Path, ipv4: HTTPServer) -> None:
    """A response cached while loopback was allowed is replayed later without any check."""
    url = f"http://127.0.0.1:{ipv4.port}/page"
    cache = {"HTTPCACHE_ENABLED": "True", "HTTPCACHE_DIR": str(tmp_path / "cache")}
    first = crawl(tmp_path, [url], allowed="127.0.0.1/32", settings=cache)
    assert first["by_url"][url]["status"] == 200
    second = crawl(tmp_path, [url], settings=cache)
    assert second["by_url"][url]["status"] == 200
    assert "cached" in second["by_url"][url]["flags"]
    assert refused_stats(second) == {}
    assert paths(ipv4) == ["/page"]
