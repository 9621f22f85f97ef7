"""Fetching MMS media when a message is accepted: limits, timeouts and the private-address guard."""

from __future__ import annotations

import mimetypes
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from telroute.errors import Unprocessable
from telroute.kit.outbound import OutboundError, OutboundHttp, TargetRefused

_MAX_REDIRECTS = 3
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


@dataclass(frozen=True, slots=True)
class FetchedMedia:
    url: str
    file_name: str
    mime_type: str
    content: bytes


def _file_name(url: str) -> str:
    """The URL's last path segment in ASCII letters, digits and `._-`: it goes into the media id, its
    link and a Content-Disposition header (latin-1 only), so `фото.jpg` becomes `media.jpg`."""
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    cleaned = "".join(char for char in name if char.isascii() and (char.isalnum() or char in "._-"))[:100]
    return "media" + cleaned if not cleaned or cleaned.startswith(".") else cleaned


def _mime_type(headers: dict[str, str], file_name: str) -> str:
    """The declared `type/subtype` when it is well formed (it is stored and sent back as a header),
    else a guess from the file name."""
    declared = headers.get("content-type", "").split(";")[0].strip().lower()
    if _MIME_TYPE.fullmatch(declared):
        return declared
    return mimetypes.guess_type(file_name)[0] or "application/octet-stream"


def _too_large(url: str, limit: int) -> Unprocessable:
    return Unprocessable(f'Error fetching media: File at "{url}" is over {limit} byte limit.', code="media_too_large")


def _unreachable(url: str, why: str) -> Unprocessable:
    return Unprocessable(f'Error fetching media: File at "{url}" could not be fetched: {why}', code="media_unreachable")


async def _get(client: OutboundHttp, url: str, budget: int, deadline: float) -> tuple[dict[str, str], bytes]:
    target = url
    for _ in range(_MAX_REDIRECTS + 1):
        async with client.get(target, timeout=max(0.1, deadline - time.monotonic())) as (reply, chunks):
            if reply.status in (301, 302, 303, 307, 308) and "location" in reply.headers:
                target = urljoin(reply.url, reply.headers["location"])
                continue
            if reply.status != 200:
                raise _unreachable(url, f"HTTP {reply.status}")
            declared = reply.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > budget:
                raise _too_large(url, 0)
            return reply.headers, await _read_within(chunks, budget, url)
    raise _unreachable(url, "too many redirects")


async def _read_within(chunks: AsyncIterator[bytes], budget: int, url: str) -> bytes:
    received: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > budget:
            raise _too_large(url, 0)
        received.append(chunk)
    return b"".join(received)


async def fetch_all(client: OutboundHttp, urls: list[str], *, limit: int, timeout: float) -> list[FetchedMedia]:
    """Fetch every URL in order; their total must stay within `limit` bytes (Flowroute: 767840)."""
    fetched: list[FetchedMedia] = []
    used = 0
    deadline = time.monotonic() + timeout
    for url in urls:
        try:
            headers, content = await _get(client, url, limit - used, deadline)
        except Unprocessable as exc:
            if exc.code == "media_too_large":
                raise _too_large(url, limit) from exc
            raise
        except TargetRefused as exc:
            raise _unreachable(url, str(exc)) from exc
        except OutboundError as exc:
            raise _unreachable(url, str(exc)) from exc
        used += len(content)
        name = _file_name(url)
        fetched.append(FetchedMedia(url, name, _mime_type(headers, name), content))
    return fetched
