"""The console's session: a signed, expiring cookie holding who signed in and the CSRF token.

The cookie is `<payload>.<signature>`, the payload base64url JSON, the signature HMAC-SHA256 under a
key kept in the data dir (`console-session-key`, created 0600 on first use). An account's session
also holds a fingerprint of its secret hash, so rotating the secret ends every session of it; an
operator's holds a fingerprint of the admin token's digest. Nothing secret is in the payload."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

COOKIE = "telroute_console"
LIFETIME_SECONDS = 8 * 3600
KEY_FILE = "console-session-key"


@dataclass(frozen=True, slots=True)
class Session:
    kind: str  # "account" or "operator"
    subject: str  # the access key, or "operator"
    fingerprint: str
    csrf: str
    expires: int  # unix seconds


def fingerprint(secret_material: str) -> str:
    return hashlib.sha256(("console:" + secret_material).encode()).hexdigest()[:32]


def load_key(data_dir: Path) -> bytes:
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()  # another process made it first
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()


def new_session(kind: str, subject: str, fingerprint_value: str, *, now: int) -> Session:
    return Session(kind, subject, fingerprint_value, secrets.token_urlsafe(24), now + LIFETIME_SECONDS)


def _sign(key: bytes, payload: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(key, payload, hashlib.sha256).digest()).decode().rstrip("=")


def encode(session: Session, key: bytes) -> str:
    fields = [session.kind, session.subject, session.fingerprint, session.csrf, session.expires]
    payload = base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")
    return f"{payload}.{_sign(key, payload.encode())}"


def decode(cookie: str | None, key: bytes, *, now: int) -> Session | None:
    """The session of a cookie whose signature holds and which has not expired; else None."""
    if not cookie or cookie.count(".") != 1:
        return None
    payload, signature = cookie.split(".")
    if not hmac.compare_digest(_sign(key, payload.encode()), signature):
        return None
    try:
        kind, subject, fingerprint_value, csrf, expires = json.loads(base64.urlsafe_b64decode(payload + "=="))
    except (binascii.Error, ValueError, TypeError):
        return None
    if not isinstance(expires, int) or expires <= now:
        return None
    return Session(str(kind), str(subject), str(fingerprint_value), str(csrf), expires)


def csrf_matches(session: Session, offered: str | None) -> bool:
    return offered is not None and hmac.compare_digest(session.csrf.encode(), offered.encode())
