"""`Idempotency-Key`: the same key and body within 24 h replays the first response.

The key row is claimed first, inside the caller's transaction, so two concurrent requests with
one key serialize on it: the second waits for the first to commit and then replays its answer.
"""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from telroute.errors import BadRequest, Unprocessable
from telroute.kit import jsonapi
from telroute.kit.db import Connection, sql

HEADER = "idempotency-key"
WINDOW_US = 24 * 3600 * 1_000_000

_CLAIM = sql(
    """INSERT INTO idempotency_keys (account_id, scope, key, request_hash, status, response, created_at_us)
       VALUES (:account, :scope, :key, :hash, 0, '', :now)
       ON CONFLICT (account_id, scope, key) DO UPDATE
         SET request_hash = excluded.request_hash, status = 0, response = '', created_at_us = excluded.created_at_us
         WHERE idempotency_keys.created_at_us < :cutoff
       RETURNING status"""
)
_EXISTING = sql(
    "SELECT request_hash, status, response FROM idempotency_keys "
    "WHERE account_id = :account AND scope = :scope AND key = :key"
)
_STORE = sql(
    "UPDATE idempotency_keys SET status = :status, response = :response "
    "WHERE account_id = :account AND scope = :scope AND key = :key"
)


def _key(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not 1 <= len(key) <= 255 or not key.isascii() or not key.isprintable():
        raise BadRequest("Idempotency-Key must be 1 to 255 printable ASCII characters")
    return key


def _request_hash(request: Request) -> str:
    body: bytes = getattr(request.state, "raw_body", b"")
    return hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + body).hexdigest()


async def begin(connection: Connection, request: Request, account_id: int, scope: str, *, now: int) -> Response | None:
    """Claim the request's key, or return the stored response of its first use."""
    key = _key(request)
    if key is None:
        return None
    digest = _request_hash(request)
    params = {"account": account_id, "scope": scope, "key": key}
    claimed = await connection.fetchrow(_CLAIM, {**params, "hash": digest, "now": now, "cutoff": now - WINDOW_US})
    if claimed is not None:
        return None
    row = await connection.fetchrow(_EXISTING, params)
    assert row is not None
    if row["request_hash"] != digest:
        raise Unprocessable(
            "Idempotency-Key was already used with a different request body", code="idempotency_mismatch"
        )
    return jsonapi.JsonApiResponse(
        row["response"].encode(), status_code=row["status"], headers={"Idempotent-Replayed": "true"}
    )


async def remember(
    connection: Connection, request: Request, account_id: int, scope: str, document: Any, status: int
) -> Response:
    body = jsonapi.encode(document)
    key = _key(request)
    if key is not None:
        params = {
            "account": account_id,
            "scope": scope,
            "key": key,
            "status": status,
            "response": body.decode(),
        }
        await connection.execute(_STORE, params)
    return jsonapi.JsonApiResponse(body, status_code=status)


def requested(request: Request) -> bool:
    """Whether the request carries an Idempotency-Key (checked when it is claimed, `begin`)."""
    return HEADER in request.headers
