"""Outbound HTTP (media fetches, callbacks): URL rules, the address guard, one shared client.

The guard (the deployment's `AddressPolicy`) sits where names are resolved, so the addresses checked are
the addresses connected to (no DNS-rebinding gap); IP-literal hosts are checked beforehand. Redirects are
never followed. Callbacks (POSTs) go through `kit/http1_posts.py`, a small kept-alive HTTP/1.1 client (a
third of aiohttp's CPU per POST); media fetches (GETs, streamed) through aiohttp, which
(`kit/outbound_session.py`) is loaded on the first fetch, so that a command that never fetches does not
pay for importing it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from telroute.errors import BadRequest
from telroute.kit.addresses import AddressPolicy, literal_refusal
from telroute.kit.http1_posts import Http1Posts
from telroute.kit.origin_slots import OriginSlots
from telroute.kit.outbound_errors import OutboundError, TargetRefused

__all__ = ["OutboundError", "OutboundHttp", "TargetRefused"]

if TYPE_CHECKING:
    import aiohttp

MAX_URL_LENGTH = 2048
MAX_REPLY_BYTES = 65536


def validate_url(raw: object, *, name: str, pointer: str) -> str:
    """An absolute http(s) URL with a host and no whitespace or control characters."""
    if not isinstance(raw, str):
        raise BadRequest(f"{name} must be a string URL", pointer=pointer)
    if len(raw) > MAX_URL_LENGTH:
        raise BadRequest(f"{name} is longer than {MAX_URL_LENGTH} characters", pointer=pointer)
    if any(ord(char) < 0x21 or not char.isprintable() for char in raw):
        raise BadRequest(f"{name} must not contain spaces or control characters", pointer=pointer)
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise BadRequest(f"{name} is not a valid URL: {exc}", pointer=pointer) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest(f"{name} must be an absolute http or https URL", pointer=pointer)
    return raw


def check_literal(url: str, policy: AddressPolicy) -> None:
    """Refuse URLs whose host is a refused IP literal (names are checked by the resolver)."""
    reason = literal_refusal(url, policy)
    if reason is not None:
        raise TargetRefused(reason)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: dict[str, str]
    url: str


@dataclass(frozen=True, slots=True)
class Posted:
    status: int
    location: str | None  # of a redirect, which is not followed
    seconds: float  # from when the request held a connection slot to the end of its reply


class OutboundHttp:
    """The process's one outbound HTTP client (keep-alive pool), created on first use in the loop.

    POSTs (callbacks) hold one of `per_receiver` slots of their origin while in flight, so no receiver
    ever has more connections from this process open at once; GETs (media fetches) do not queue."""

    def __init__(
        self,
        *,
        policy: AddressPolicy,
        timeout: float,
        connections: int = 200,
        per_receiver: int = 16,
        slot_wait: float | None = None,
    ) -> None:
        self.policy = policy
        self._timeout = timeout
        self._connections = max(connections, per_receiver)
        self._slots = OriginSlots(per_receiver, queue=per_receiver, wait=timeout if slot_wait is None else slot_wait)
        self._session: aiohttp.ClientSession | None = None  # GETs (media fetches)
        self._posts = Http1Posts(policy)  # POSTs (callbacks)
        # Callbacks go to the same few URLs over and over: each is judged once (a refusal raises, and is not kept).
        self._check_literal = lru_cache(maxsize=4096)(partial(check_literal, policy=policy))

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            from telroute.kit.outbound_session import new_session

            self._session = new_session(self.policy, self._connections)
        return self._session

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float | None = None) -> Posted:
        """POST and read at most 64 kB of the reply. Raises OriginBusy (nothing sent: no slot came free in
        time), TargetRefused or OutboundError. The timeout starts once a slot is held."""
        self._check_literal(url)
        async with self._slots.slot(url):
            started = time.monotonic()
            try:
                answer = await self._posts.post(
                    url, body, headers, timeout=timeout or self._timeout, limit=MAX_REPLY_BYTES
                )
            except OutboundError as error:
                error.seconds = time.monotonic() - started
                raise
            return Posted(answer.status, answer.location, time.monotonic() - started)

    @asynccontextmanager
    async def get(self, url: str, timeout: float | None = None) -> AsyncIterator[tuple[Reply, Any]]:
        """GET without following redirects; yields the reply and an async iterator of body chunks."""
        self._check_literal(url)
        client = self._client()
        from telroute.kit.outbound_session import TRANSPORT_ERRORS, client_timeout

        try:
            async with client.get(
                url, allow_redirects=False, timeout=client_timeout(timeout or self._timeout)
            ) as response:
                reply = Reply(response.status, {k.lower(): v for k, v in response.headers.items()}, str(response.url))
                yield reply, response.content.iter_chunked(65536)
        except TRANSPORT_ERRORS as exc:
            raise _outbound_error(exc) from exc

    async def close(self) -> None:
        await self._posts.close()
        if self._session is not None:
            await self._session.close()


def _outbound_error(exc: BaseException) -> BaseException:
    cause = exc
    while cause.__cause__ is not None and not isinstance(cause, TargetRefused):
        cause = cause.__cause__
    if isinstance(cause, TargetRefused):
        return cause
    if isinstance(exc, TimeoutError):
        return OutboundError("timed out")
    return OutboundError(f"{type(exc).__name__}: {exc}"[:300])
