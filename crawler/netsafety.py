"""Network safety: keep untrusted links off the crawling host's own network.

Links in digests are untrusted, so by default no request may reach a loopback, private,
link-local, multicast, unspecified or reserved address (IPv4 or IPv6, IPv4-mapped included),
a ``localhost`` name, or a host spelled as a non-canonical number (``2130706433``,
``0x7f.1``). The ``ALLOWED_PRIVATE_NETWORKS`` setting (CIDR networks or host names; a
comma-separated string on the command line) lifts that for what it names.

Two components enforce it:

* `SafeResolver`, for the ``TWISTED_DNS_RESOLVER`` setting (``DNS_RESOLVER`` is its deprecated
  name). Scrapy's HTTP/1.1 handler connects through ``HostnameEndpoint``, which asks the
  reactor's ``IHostnameResolver`` for every host, IP literals included, and connects only to
  the addresses it is given. The resolver checks each address before handing it over, so every
  redirect hop is covered and DNS rebinding cannot slip in between check and connect. It is
  built from the process settings (project settings or ``-s``), never a spider's
  ``custom_settings``, and is not installed by ``CrawlerRunner``.
* `crawler.middlewares.netsafety.NetworkSafetyMiddleware`, a downloader middleware placed right
  before the download (960): refuses non-http(s) schemes and literal, localhost or numeric
  hosts with a `RefusedURL` naming URL and reason, turns the resolver's refusals into the same,
  and counts them in the ``sources/refused/<kind>`` stats. Responses that HttpCacheMiddleware
  (900) replays never reach it, nor the resolver.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import idna
from scrapy.exceptions import IgnoreRequest
from scrapy.resolver import CachingThreadedResolver, HostResolution
from scrapy.utils.datatypes import LocalCache
from twisted.internet import defer
from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import (
    IAddress,
    IHostnameResolver,
    IHostResolution,
    IResolutionReceiver,
    IResolverSimple,
)
from zope.interface import implementer

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from twisted.internet.defer import Deferred
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

SETTING = "ALLOWED_PRIVATE_NETWORKS"
_UNHINTED = frozenset({"scheme", "numeric-host", "host"})  # kinds the setting cannot allow

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Refusal = tuple[str, str]  # (kind, reason); kind names the stats key

_LOOPBACKS = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
_resolver_refusals: LocalCache[str, Refusal] = LocalCache(10000)  # host -> refusal
_logged_allowlists: set[tuple[str, ...]] = set()


class RefusedURL(IgnoreRequest):
    """A request refused because its URL could reach the crawling host's own network."""


class RefusedAddress(DNSLookupError):
    """A host name resolution refused because of the address it names or resolves to."""

    def __init__(self, host: str, reason: str, kind: str = "host"):
        super().__init__(f"{host}: {reason}")
        self.host, self.reason, self.kind = host, reason, kind

    def __str__(self) -> str:
        return f"refused to resolve {self.host}: {self.reason}{hint(self.kind)}"


@dataclass(frozen=True)
class Allowlist:
    """Networks and host names exempt from the checks."""

    networks: tuple[IPNetwork, ...] = ()
    names: frozenset[str] = frozenset()
    entries: tuple[str, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[IPNetwork | str]) -> Self:
        """Build from CIDR networks, IP addresses and host names; raise ValueError if bad."""
        networks: list[IPNetwork] = []
        names: set[str] = set()
        kept: list[str] = []
        for entry in entries:
            network: IPNetwork
            if isinstance(entry, str):
                text = entry.strip()
                if not text:
                    continue
                try:
                    network = ipaddress.ip_network(text.strip("[]"), strict=False)
                except ValueError:
                    if "/" in text or ":" in text:
                        raise ValueError(f"{SETTING}: invalid network {text!r}") from None
                    names.add(_host_key(text))
                    kept.append(text)
                    continue
            else:
                network = entry
            networks.append(network)
            kept.append(str(network))
        return cls(tuple(networks), frozenset(names), tuple(kept))

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Read the ALLOWED_PRIVATE_NETWORKS setting (a list or a comma-separated string)."""
        return cls.parse(settings.getlist(SETTING))

    def __bool__(self) -> bool:
        return bool(self.entries)

    def allows_address(self, ip: IPAddress) -> bool:
        """Whether an allowed network contains the address (or the IPv4 it maps)."""
        candidates = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        return any(c in net for c in candidates for net in self.networks)

    def allows_name(self, host: str) -> bool:
        """Whether the host name itself is allowed."""
        return _host_key(host) in self.names


def check_host(host: str, allowed: Sequence[IPNetwork | str] | Allowlist) -> str | None:
    """Return why a URL host must not be fetched, or None; no DNS lookup is made."""
    allowlist = allowed if isinstance(allowed, Allowlist) else Allowlist.parse(allowed)
    refusal = host_refusal(host, allowlist)
    return None if refusal is None else refusal[1]


def host_refusal(host: str, allowlist: Allowlist) -> Refusal | None:
    """Check a URL host by its spelling: IP literal, localhost name or numeric host."""
    key = _host_key(host)
    if not key:
        return "host", "empty host"
    if key in allowlist.names:
        return None
    ip = ip_literal(key)
    if ip is not None:
        return address_refusal(ip, allowlist)
    if key == "localhost" or key.endswith(".localhost"):
        if any(allowlist.allows_address(ip) for ip in _LOOPBACKS):
            return None
        return "loopback", f"localhost name {host!r}"
    if _ends_in_number(key):
        ip = _parse_numeric_ipv4(key)
        meaning = f" (= {ip})" if ip is not None else ""
        return "numeric-host", f"non-canonical numeric host {host!r}{meaning}"
    return None


def address_refusal(ip: IPAddress, allowlist: Allowlist) -> Refusal | None:
    """Return (kind, reason) if the address is not public and not allowed, else None."""
    if allowlist.allows_address(ip):
        return None
    kind = _address_kind(ip)
    if kind is None:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)
    return kind, f"{kind} address {ip}" + (f" (IPv4-mapped {mapped})" if mapped else "")


def ip_literal(host: str) -> IPAddress | None:
    """The address of a canonical IP literal host (IPv6 with or without brackets), or None."""
    try:
        return ipaddress.ip_address(host[1:-1] if host.startswith("[") else host)
    except ValueError:
        return None


def resolver_refusal(host: str) -> Refusal | None:
    """The refusal `SafeResolver` recorded for a host in this process, if any."""
    return _resolver_refusals.get(_host_key(host))


def _address_kind(ip: IPAddress) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:  # e.g. 100.64.0.0/10, shared address space
        return "reserved"
    return None


def _host_key(host: str) -> str:
    """Lower-case, bracket-less, ASCII (punycode) form of a host, one trailing dot dropped."""
    key = host.strip().lower()
    if key.startswith("[") and key.endswith("]"):
        key = key[1:-1]
    if key.endswith("."):
        key = key[:-1]
    if not key.isascii():
        try:
            key = idna.encode(key, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            key = key.encode("ascii", "backslashreplace").decode("ascii")
    return key


def _ends_in_number(host: str) -> bool:
    """WHATWG URL "ends in a number": the host is meant as an IPv4 address."""
    last = host.rsplit(".", 1)[-1]
    if last.isascii() and last.isdigit():
        return True
    return last.startswith("0x") and all(c in "0123456789abcdef" for c in last[2:])


def _parse_numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Parse decimal/octal/hex IPv4 spellings as inet_aton() and WHATWG do; None if invalid."""
    parts = host.split(".")
    if len(parts) > 4:
        return None
    numbers = []
    for part in parts:
        base, digits = 10, part
        if part[:2] == "0x":
            base, digits = 16, part[2:] or "0"
        elif len(part) > 1 and part[0] == "0":
            base, digits = 8, part[1:]
        try:
            numbers.append(int(digits, base))
        except ValueError:
            return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last + sum(n << (8 * (3 - i)) for i, n in enumerate(head))
    return ipaddress.IPv4Address(value)


def hint(kind: str) -> str:
    return "" if kind in _UNHINTED else f" (set {SETTING} to allow)"


def log_allowlist(allowlist: Allowlist) -> None:
    """Warn once per process that private networks are allowed."""
    if allowlist and allowlist.entries not in _logged_allowlists:
        _logged_allowlists.add(allowlist.entries)
        logger.warning(
            "%s is set: requests to %s are allowed", SETTING, ", ".join(allowlist.entries)
        )


@implementer(IHostnameResolver, IResolverSimple)
class SafeResolver:
    """Scrapy's caching threaded resolver, refusing addresses outside the public internet.

    Installed as the reactor's ``IHostnameResolver`` (what ``HostnameEndpoint`` uses) and as
    its ``IResolverSimple`` (what ``connectTCP`` to a host name uses). Lookups are IPv4, with
    ``DNS_TIMEOUT`` and ``DNSCACHE_*`` as in Scrapy's default; IP literals, IPv6 included, are
    checked and passed on without a lookup. A refused name resolves to no address (so the
    connection fails with ``DNSLookupError`` before any connect), is logged, and recorded for
    `NetworkSafetyMiddleware`.
    """

    def __init__(self, reactor: Any, allowlist: Allowlist, lookup: IResolverSimple):
        self.reactor = reactor
        self.allowlist = allowlist
        self.lookup = lookup

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> Self:
        allowlist = Allowlist.from_settings(crawler.settings)
        log_allowlist(allowlist)
        return cls(reactor, allowlist, cls.lookup_from_crawler(crawler, reactor))

    @classmethod
    def lookup_from_crawler(cls, crawler: Crawler, reactor: Any) -> IResolverSimple:
        """The resolver that does the lookups: Scrapy's default, CachingThreadedResolver."""
        return CachingThreadedResolver.from_crawler(crawler, reactor)

    def install_on_reactor(self) -> None:
        """Install as both the reactor's name resolver and its simple resolver."""
        self.reactor.installNameResolver(self)
        # installNameResolver() set reactor.resolver to a wrapper of resolveHostName(); use
        # getHostByName() instead, so that a refusal fails connectTCP() with RefusedAddress.
        self.reactor.resolver = self

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        """IResolverSimple: the checked address of a name, or a RefusedAddress failure."""
        return self.resolve(name).addCallback(str)

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        """IHostnameResolver: deliver the checked address, or none if refused or not found."""
        resolution = HostResolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)

        def deliver(ip: IPAddress) -> None:
            cls = IPv6Address if ip.version == 6 else IPv4Address
            if addressTypes is None or cls in addressTypes:
                address = cls(transportSemantics, str(ip), portNumber)  # type: ignore[arg-type]
                resolutionReceiver.addressResolved(address)

        def failed(failure: Failure) -> None:
            if not failure.check(DNSLookupError):  # type: ignore[no-untyped-call]
                logger.error("Error resolving %s: %s", hostName, failure.getErrorMessage())

        d = self.resolve(hostName)
        d.addCallbacks(deliver, failed)
        d.addBoth(lambda _: resolutionReceiver.resolutionComplete())
        return resolution

    def resolve(self, name: str) -> Deferred[IPAddress]:
        """Resolve a host name to one checked address; fail with RefusedAddress if refused."""
        host = _host_key(name)
        if self.allowlist.allows_name(host):
            literal = ip_literal(host)
            if literal is not None:
                return defer.succeed(literal)
            looked_up: Deferred[IPAddress] = self.lookup.getHostByName(host).addCallback(
                ipaddress.ip_address
            )
            return looked_up
        refusal = host_refusal(host, self.allowlist)
        if refusal is not None:
            return defer.fail(self._refused(host, refusal))
        literal = ip_literal(host)
        if literal is not None:
            return defer.succeed(literal)
        checked: Deferred[IPAddress] = self.lookup.getHostByName(host).addCallback(
            self._check, host
        )
        return checked

    def _check(self, address: str, host: str) -> IPAddress:
        ip = ipaddress.ip_address(address)
        refusal = address_refusal(ip, self.allowlist)
        if refusal is not None:
            kind, reason = refusal
            raise self._refused(host, (kind, f"resolves to {reason}"))
        _resolver_refusals.pop(host, None)  # the name has moved to a public address
        return ip

    def _refused(self, host: str, refusal: Refusal) -> RefusedAddress:
        kind, reason = refusal
        _resolver_refusals[host] = refusal
        error = RefusedAddress(host, reason, kind)
        logger.warning("%s", error)
        return error
