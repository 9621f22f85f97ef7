"""The aiohttp side of `kit/outbound.py`: the session, its guarded resolver, draining a reply. Imported on the
first outbound request only (aiohttp takes a seventh of a second to import)."""

from __future__ import annotations

import socket

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from telroute.kit.addresses import AddressPolicy, refuse_resolved

TRANSPORT_ERRORS = (aiohttp.ClientError, TimeoutError, OSError)


def new_session(policy: AddressPolicy, connections: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections, resolver=GuardedResolver(policy))
    return aiohttp.ClientSession(connector=connector, headers={"User-Agent": "telroute"}, auto_decompress=False)


def client_timeout(seconds: float) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=seconds)


class GuardedResolver(AbstractResolver):
    def __init__(self, policy: AddressPolicy) -> None:
        self._inner = DefaultResolver()
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        refuse_resolved(host, (result["host"] for result in results), self._policy)
        return results

    async def close(self) -> None:
        await self._inner.close()


async def drain(response: aiohttp.ClientResponse, limit: int) -> None:
    """Read the reply body so the connection can be kept alive; past `limit` bytes, or when the body
    stalls until the timeout, close the connection instead. The status was already received: what
    the body does cannot undo it."""
    received = 0
    try:
        while received <= limit:
            chunk = await response.content.read(limit + 1 - received)
            if not chunk:
                return
            received += len(chunk)
    except TRANSPORT_ERRORS:
        pass
    response.close()
