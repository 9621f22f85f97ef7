"""The limits every listening port applies to its clients, from Settings."""

from __future__ import annotations

from dataclasses import dataclass

from telroute.config import Settings


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    max_head_bytes: int
    head_timeout: float
    body_idle_timeout: float
    body_timeout: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> EdgeLimits:
        return cls(
            max_head_bytes=settings.http_max_head_bytes,
            head_timeout=settings.http_head_timeout,
            body_idle_timeout=settings.http_body_idle_timeout,
            body_timeout=settings.http_body_timeout,
            max_connections=settings.http_max_connections,
        )
