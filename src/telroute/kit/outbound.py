"""Outbound HTTP targets (media fetches, callbacks): URL rules and the private-address guard."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from telroute.errors import BadRequest

MAX_URL_LENGTH = 2048


class TargetRefused(Exception):
    """The URL points at an address telroute must not reach (loopback, private, link-local...)."""


def validate_url(raw: object, *, name: str, pointer: str) -> str:
    """An absolute http(s) URL with a host and no whitespace or control characters."""
    if not isinstance(raw, str):
        raise BadRequest(f"{name} must be a string URL", pointer=pointer)
    if len(raw) > MAX_URL_LENGTH:
        raise BadRequest(f"{name} is longer than {MAX_URL_LENGTH} characters", pointer=pointer)
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in raw):
        raise BadRequest(f"{name} must not contain spaces or control characters", pointer=pointer)
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise BadRequest(f"{name} is not a valid URL: {exc}", pointer=pointer) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest(f"{name} must be an absolute http or https URL", pointer=pointer)
    return raw


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


async def resolve_checked(url: str, *, allow_private: bool) -> None:
    """Raise TargetRefused unless every address of the URL's host is public (or private is allowed)."""
    if allow_private:
        return
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TargetRefused(f"cannot resolve {host}: {exc}") from exc
    addresses = {str(info[4][0]) for info in infos}
    if not addresses or not all(_is_public(address) for address in addresses):
        raise TargetRefused(f"{host} resolves to a private, loopback or link-local address")
