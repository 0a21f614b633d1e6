"""The SSRF guard: webhook URLs must point at public addresses unless allowed.

A URL is checked when it is subscribed and again before every delivery, on the
addresses its host name resolves to then (a name can be changed to point inside after
it was accepted). The sender connects to the address it checked, not to a second
resolution (DNS rebinding). Allowed: http(s) URLs whose every address is global
unicast; private, loopback, link-local, unspecified, shared, reserved and multicast
addresses (IPv4-mapped IPv6 ones as IPv4) only inside `allowed_networks`.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

import httpx

from lobu.notifications.errors import WebhookUrlRefusedError

# Host name, port -> the addresses it resolves to (tests substitute their own).
Resolver = Callable[[str, int], Awaitable[list[str]]]
Network = IPv4Network | IPv6Network


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, through the system resolver."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class CheckedUrl:
    """A URL that passed the guard, and the address to connect to."""

    url: httpx.URL
    address: str

    @property
    def pinned(self) -> httpx.URL:
        """The URL with the checked address in place of the host name."""
        return self.url.copy_with(host=self.address)


def _refusable(address: IPv4Address | IPv6Address) -> bool:
    return not address.is_global or address.is_multicast


def _allowed(address: IPv4Address | IPv6Address, networks: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def _parse(url: str, *, require_https: bool) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError) as error:
        raise WebhookUrlRefusedError("the webhook URL is not a valid URL") from error
    schemes = ("https",) if require_https else ("http", "https")
    if parsed.scheme not in schemes or not parsed.host:
        raise WebhookUrlRefusedError(
            f"a webhook URL must be {' or '.join(schemes)} with a host name or address"
        )
    if parsed.userinfo:
        raise WebhookUrlRefusedError("a webhook URL must not carry a user name or password")
    return parsed


async def check_url(
    url: str,
    *,
    allowed_networks: Sequence[Network],
    resolver: Resolver = resolve_host,
    require_https: bool = False,
) -> CheckedUrl:
    """Refuse `url` (WebhookUrlRefusedError) unless every address of its host is allowed."""
    parsed = _parse(url, require_https=require_https)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        addresses = [ip_address(parsed.host)]
    except ValueError:
        try:
            addresses = [
                ip_address(each.split("%")[0]) for each in await resolver(parsed.host, port)
            ]
        except OSError as error:
            raise WebhookUrlRefusedError("the webhook URL's host name does not resolve") from error
    if not addresses:
        raise WebhookUrlRefusedError("the webhook URL's host name does not resolve")
    for address in addresses:
        plain = (
            address.ipv4_mapped
            if isinstance(address, IPv6Address) and address.ipv4_mapped
            else address
        )
        if _refusable(plain) and not _allowed(plain, allowed_networks):
            raise WebhookUrlRefusedError(
                "the webhook URL points at a private, loopback, link-local or otherwise "
                "non-public address; allow its network in "
                "LOBU_NOTIFICATIONS_WEBHOOK_ALLOWED_NETWORKS if that is meant"
            )
    return CheckedUrl(url=parsed, address=str(addresses[0]))
