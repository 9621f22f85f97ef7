"""The errors of outbound HTTP (`kit/outbound.py`, `kit/http1_posts.py`)."""

from __future__ import annotations


class TargetRefused(Exception):
    """The URL points at an address telroute must not reach (loopback, private, link-local...)."""


class OutboundError(Exception):
    """The request could not be completed (connection, timeout, protocol)."""

    seconds: float | None = None  # for a POST: how long the try took, from when it held a connection slot
