"""Real crawls refusing the crawling host's own network (crawler.netsafety).

Each runs a `scrapy runspider` subprocess (the reactor cannot restart in one process) against
loopback servers and checks the servers' logs: a refused request must never arrive. Nothing
here touches the internet: hosts are IP literals, `localhost`, or names that a stub resolver
answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.conftest import REPO

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
