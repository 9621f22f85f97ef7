"""A secret token kept only as its SHA-256 digest (the admin token): read from the environment or a
file once at start-up, hashed there, and compared by digest in constant time afterwards, so the
process's settings never hold the token itself. SHA-256 and not a slow password hash: the token is
machine-generated and long (the sandbox makes 24 random bytes), and every admin request pays the
comparison."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True, slots=True, repr=False)
class TokenDigest:
    digest: bytes

    @classmethod
    def of(cls, token: str) -> TokenDigest:
        return cls(_digest(token))

    def matches(self, offered: str) -> bool:
        return hmac.compare_digest(_digest(offered), self.digest)

    @property
    def hex(self) -> str:
        return self.digest.hex()

    def __repr__(self) -> str:
        return "TokenDigest(<hidden>)"
