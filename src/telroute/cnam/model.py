"""CNAM presets: the rules of a caller name, and when a preset counts as approved.

A preset is stored `pending`, `approved` or `rejected`. An operator decides (`telroute cnam approve|reject`);
in the sandbox a pending preset also counts as approved once `cnam_approval_delay` seconds have passed
since it was created, computed from the clock when read, so no timer runs and a virtual clock makes it
instant."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

import msgspec

from telroute.kit.db import Row

MAX_LENGTH = 15
# Letters, digits, space and the punctuation of names (comma, period, hyphen, apostrophe, ampersand).
_ALLOWED = re.compile(r"[A-Za-z0-9 ,.'&-]+")
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


class CnamBody(msgspec.Struct, forbid_unknown_fields=True):
    """`{"value": ...}` as JSON (Node SDK), form-encoded (Python SDK) or as JSON:API attributes."""

    value: Annotated[str, msgspec.Meta(max_length=256)]


def rule_broken(value: str) -> str | None:
    """Why a caller name is refused, or None."""
    if not value.strip():
        return "value must not be blank"
    if len(value) > MAX_LENGTH:
        return f"value must be at most {MAX_LENGTH} characters"
    if not _ALLOWED.fullmatch(value):
        return "value may hold only letters, digits, spaces and , . ' & -"
    if not any(character.isalpha() for character in value):
        return "value must contain at least one letter"
    return None


@dataclass(frozen=True, slots=True)
class Approval:
    """How the sandbox approves by itself: `delay_us` after creation, or never (production)."""

    delay_us: int | None

    def cutoff(self, now: int) -> int:
        """Pending presets created at or before this moment count as approved."""
        return -1 if self.delay_us is None else now - self.delay_us

    def state(self, row: Row, now: int) -> tuple[bool, int | None]:
        """Whether the preset counts as approved, and since when."""
        if row["status"] == APPROVED:
            return True, row["decided_at_us"]
        if row["status"] == PENDING and row["created_at_us"] <= self.cutoff(now):
            return True, row["created_at_us"] + (self.delay_us or 0)
        return False, None


def approval_of(profile: str, delay_seconds: float) -> Approval:
    return Approval(round(delay_seconds * 1_000_000) if profile == "sandbox" else None)
