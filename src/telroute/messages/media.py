"""Fetching MMS media when a message is accepted: limits, timeouts and the private-address guard."""

from __future__ import annotations

import mimetypes
import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx

from telroute.errors import Unprocessable
from telroute.kit.outbound import TargetRefused, resolve_checked

_MAX_REDIRECTS = 3


@dataclass(frozen=True, slots=True)
class FetchedMedia:
    url: str
    file_name: str
    mime_type: str
    content: bytes


def _file_name(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    cleaned = "".join(char for char in name if char.isalnum() or char in "._-")[:100]
    return cleaned or "media"


def _mime_type(response: httpx.Response, file_name: str) -> str:
    declared = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return declared or mimetypes.guess_type(file_name)[0] or "application/octet-stream"


def _too_large(url: str, limit: int) -> Unprocessable:
    return Unprocessable(
        f'Error fetching media: File at "{url}" is over {limit} byte limit.', code="media_too_large"
    )


def _unreachable(url: str, why: str) -> Unprocessable:
    return Unprocessable(
        f'Error fetching media: File at "{url}" could not be fetched: {why}', code="media_unreachable"
    )


async def _get(
    client: httpx.AsyncClient, url: str, budget: int, deadline: float, allow_private: bool
) -> tuple[httpx.Response, bytes]:
    target = url
    for _ in range(_MAX_REDIRECTS + 1):
        await resolve_checked(target, allow_private=allow_private)
        timeout = max(0.1, deadline - time.monotonic())
        async with client.stream("GET", target, timeout=timeout) as response:
            if response.is_redirect and "location" in response.headers:
                target = str(response.url.join(response.headers["location"]))
                continue
            if response.status_code != 200:
                raise _unreachable(url, f"HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > budget:
                raise _too_large(url, 0)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > budget:
                    raise _too_large(url, 0)
                chunks.append(chunk)
            return response, b"".join(chunks)
    raise _unreachable(url, "too many redirects")


async def fetch_all(
    client: httpx.AsyncClient, urls: list[str], *, limit: int, timeout: float, allow_private: bool
) -> list[FetchedMedia]:
    """Fetch every URL in order; their total must stay within `limit` bytes (Flowroute: 767840)."""
    fetched: list[FetchedMedia] = []
    used = 0
    deadline = time.monotonic() + timeout
    for url in urls:
        try:
            response, content = await _get(client, url, limit - used, deadline, allow_private)
        except Unprocessable as exc:
            if exc.code == "media_too_large":
                raise _too_large(url, limit) from exc
            raise
        except TargetRefused as exc:
            raise _unreachable(url, str(exc)) from exc
        except httpx.HTTPError as exc:
            raise _unreachable(url, type(exc).__name__) from exc
        used += len(content)
        name = _file_name(url)
        fetched.append(FetchedMedia(url, name, _mime_type(response, name), content))
    return fetched
