"""Which addresses the relay may connect to, checked where the connection is made.

`satchel serve`'s relay (satchel/relay.py) fetches URLs that a page names, from the machine it runs on. Unchecked,
it would reach what that machine reaches and the page does not: its own loopback services, the cloud metadata
address (169.254.169.254), the intranet behind it. So every address a host resolves to is checked, the host is
refused if any of them is not public, and the connection goes to a checked address: the name is resolved once, here,
so it cannot resolve to something else a moment later (DNS rebinding). TLS and the Host header still use the name,
since httpcore takes both from the request URL, not from the address `connect_tcp` is given.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

import anyio
import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Host and port → the addresses it resolves to (IP literals), in the order to try them.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_CARRIER_GRADE_NAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`, without duplicates, in its order."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_kind(address: IPAddress) -> str | None:
    """What kind of non-public address `address` is ("a loopback address"...), or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            kind = address_kind(embedded)
            return f"{kind} in IPv6 form ({embedded})" if kind else None
    checks: tuple[tuple[bool, str], ...] = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address in _CARRIER_GRADE_NAT, "a carrier-grade NAT address"),
        (any(address in net for net in _PRIVATE_NETWORKS), "a private address"),
        (address.is_multicast, "a multicast address"),
        (address.is_reserved, "a reserved address"),
        (isinstance(address, ipaddress.IPv6Address) and address.is_site_local, "a site-local address"),
        (not address.is_global, "a special-purpose address"),
    )
    return next((kind for matched, kind in checks if matched), None)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d),
    NAT64 (64:ff9b::a.b.c.d) or 6to4 (2002:aabb:ccdd::). Python's own predicates miss most of these forms."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64 or (int(address) >> 32 == 0 and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


class AddressRefused(Exception):
    """The relay will not connect to this host; the message names it and says why."""


def _normalise_host(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


#: A host name as the operator writes one: letters, digits, hyphens and dots.
_HOST_NAME = re.compile(
    r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$"
)


def is_host(host: str) -> bool:
    """Whether `host` is a host name or an IP address (IPv6 with or without brackets), with nothing else."""
    return _is_ip_literal(host) or (len(host) <= 253 and _HOST_NAME.match(host) is not None)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class AddressRules:
    """What the operator allowed besides public addresses (`satchel serve --relay-allow-private`,
    `--relay-allow-host HOST`)."""

    allow_private: bool = False
    #: Host names (or IP literals) the relay may reach whatever they resolve to, compared without case.
    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def create(cls, *, allow_private: bool = False, allowed_hosts: Iterable[str] = ()) -> AddressRules:
        return cls(allow_private, frozenset(_normalise_host(host) for host in allowed_hosts))

    def check(self, host: str, addresses: Sequence[str]) -> list[str]:
        """The addresses to connect to; AddressRefused when any of them is not public and the operator did not
        allow it. An address that cannot be parsed is refused too."""
        if self.allow_private or _normalise_host(host) in self.allowed_hosts:
            return list(addresses)
        for text in addresses:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                raise AddressRefused(f"{host} resolves to {text!r}, which is not an IP address") from None
            kind = address_kind(address)
            if kind is not None:
                where = f"is {kind}" if _is_ip_literal(host) else f"resolves to {kind} {text}"
                raise AddressRefused(
                    f"{host} {where}; the operator did not allow private addresses "
                    "(satchel serve --relay-allow-private, or --relay-allow-host for this host)"
                )
        return list(addresses)


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network layer for the relay: resolve, check every address, connect to a checked one."""

    def __init__(
        self,
        rules: AddressRules,
        resolver: Resolver = system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.rules = rules
        self.resolver = resolver
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        deadline = None if timeout is None else anyio.current_time() + timeout
        try:
            with anyio.fail_after(timeout):
                resolved = await self.resolver(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout} s") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from exc
        if not resolved:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        failure: httpcore.ConnectError | None = None
        for address in self.rules.check(host, resolved):
            remaining = None if deadline is None else max(deadline - anyio.current_time(), 0.0)
            try:
                return await self.inner.connect_tcp(address, port, remaining, local_address, socket_options)
            except httpcore.ConnectTimeout:
                raise
            except httpcore.ConnectError as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("the relay connects over TCP only")

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)
