"""Which addresses outbound requests (callbacks, media fetches) may reach: the address policy.

Two checks use one rule. When a URL is set, a host that is an address literal (in any spelling a
resolver accepts: `[::ffff:127.0.0.1]`, `2130706433`, `0177.0.0.1`, `0x7f.1`) or a loopback name
(`localhost`, `*.localhost`) is judged at once, so that a client learns of a refused URL with a 422
instead of a dead letter. When a request is made, every address a name resolves to is judged again
(`kit/outbound.py`), since a name may point anywhere by then.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from telroute.errors import Unprocessable
from telroute.kit.outbound_errors import TargetRefused

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_INET_ATON_SPELLING = re.compile(r"^[0-9a-fx.]+$")
_LOOPBACK_NAMES = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public(address: IpAddress) -> bool:
    """A globally routable unicast address. IPv4 carried in IPv6 (mapped, 6to4, NAT64 well-known
    prefix) is judged as that IPv4; `is_global` also leaves out 100.64.0.0/10 (carrier-grade NAT,
    some clouds' metadata services)."""
    ip = embedded_ipv4(address)
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def embedded_ipv4(address: IpAddress) -> IpAddress:
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def parse_network(text: str) -> IpNetwork:
    """A CIDR such as `10.20.0.0/16` or `fd00:1::/64` (host bits must be zero). Raises ValueError."""
    return ipaddress.ip_network(text.strip(), strict=True)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Public addresses are always reachable; others only when private targets are allowed or the
    address is in one of the allowed networks (an operator's own private network)."""

    allow_private: bool = False
    allowed_networks: tuple[IpNetwork, ...] = ()

    @classmethod
    def of(cls, allow_private: bool, networks: Iterable[str] = ()) -> AddressPolicy:
        return cls(allow_private, tuple(parse_network(network) for network in networks))

    def permits(self, address: IpAddress | str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
        if self.allow_private or is_public(ip):
            return True
        return any(embedded_ipv4(ip) in network or ip in network for network in self.allowed_networks)

    def describe(self) -> str:
        if self.allow_private:
            return "any address"
        if not self.allowed_networks:
            return "public addresses only"
        return "public addresses and " + ", ".join(str(network) for network in self.allowed_networks)


def literal_addresses(host: str) -> tuple[IpAddress, ...]:
    """The addresses a host stands for without asking DNS: an IP literal in any spelling a resolver
    accepts, or a loopback name. Empty for ordinary names."""
    name = host.strip("[]").rstrip(".").lower().split("%", 1)[0]
    if name == "localhost" or name.endswith(".localhost"):
        return _LOOPBACK_NAMES
    try:
        return (ipaddress.ip_address(name),)
    except ValueError:
        pass
    if _INET_ATON_SPELLING.match(name):
        try:  # the forms getaddrinfo accepts: 2130706433, 0x7f.1, 0177.0.0.1, 127.1
            return (ipaddress.IPv4Address(socket.inet_aton(name)),)
        except OSError:
            return ()
    return ()


def literal_refusal(url: str, policy: AddressPolicy) -> str | None:
    """Why `url` may not be reached, judged from its host alone; None when nothing is known yet."""
    host = urlsplit(url).hostname or ""
    refused = [address for address in literal_addresses(host) if not policy.permits(address)]
    if not refused:
        return None
    spelled = host if host.strip("[]") == str(refused[0]) else f"{host} ({refused[0]})"
    return f"{spelled} is a private, loopback or link-local address"


def refuse_resolved(host: str, addresses: Iterable[str], policy: AddressPolicy) -> None:
    """Raise TargetRefused when any address `host` resolves to is one the policy refuses: checked where names
    are resolved, so the address checked is the address connected to."""
    refused = next((address for address in addresses if not policy.permits(address)), None)
    if refused is not None:
        raise TargetRefused(f"{host} resolves to {refused}, a private, loopback or link-local address")


def require_reachable(url: str | None, policy: AddressPolicy, *, name: str, pointer: str) -> str | None:
    """422 for a URL the deployment's policy will never let telroute reach."""
    if url is None:
        return None
    reason = literal_refusal(url, policy)
    if reason is not None:
        raise Unprocessable(f"{name} is not allowed: {reason}", pointer=pointer)
    return url
