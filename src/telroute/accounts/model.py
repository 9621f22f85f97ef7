"""Accounts: key generation, secret hashing and the callback kinds. Pure rules."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

CALLBACK_TYPES = ("sms_callback", "mms_callback", "sms_dlr_callback", "mms_dlr_callback", "dlr_callback")


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    access_key: str
    name: str
    sms_per_second: int
    mms_per_second: int
    webhook_secret: str | None


@dataclass(frozen=True, slots=True)
class NewKeys:
    access_key: str
    secret_key: str


def rate_bucket(kind: str, account_id: int) -> str:
    """The `kit.ratelimit` bucket of an account's sends of one kind ("sms" or "mms")."""
    return f"{kind}:{account_id}"


def rate_buckets(account_id: int) -> tuple[str, str]:
    """Both of an account's buckets: its SMS and its MMS sends."""
    return rate_bucket("sms", account_id), rate_bucket("mms", account_id)


def new_access_key() -> str:
    """Eight digits, never starting with 0 (a Flowroute "tech prefix")."""
    return str(secrets.randbelow(90_000_000) + 10_000_000)


def new_secret_key() -> str:
    return secrets.token_urlsafe(32)  # 43 URL-safe characters, 256 bits


def hash_secret(secret: str) -> str:
    """Secrets are 256 random bits, so one SHA-256 suffices (no stretching needed, unlike passwords)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, colon, password = decoded.partition(":")
    if not colon or not user:
        return None
    return user, password


def callback_column(callback_type: str) -> str:
    """`dlr_callback` is Flowroute's legacy name for the SMS DLR callback."""
    return "sms_dlr_callback" if callback_type == "dlr_callback" else callback_type
