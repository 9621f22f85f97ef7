"""A small client of a sandbox server's test tools, on the standard library only (no runtime dependency):
create and delete throwaway accounts, inject inbound messages (admin token), search and wait for an
account's messages and read their one-time codes (account credentials). Used by `telroute.pytest_plugin`."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

_SLACK = 10.0  # seconds the HTTP request may take beyond the server-side wait


class SandboxError(Exception):
    """A sandbox call failed: the HTTP status and the server's JSON:API error detail."""

    def __init__(self, method: str, path: str, status: int, detail: str) -> None:
        super().__init__(f"{method} {path} -> {status}: {detail}")
        self.status = status
        self.detail = detail


class MessageNotArrived(AssertionError):
    """No matching message within the timeout; the text names the filters and what did arrive."""


class CallbackNotTried(AssertionError):
    """No matching callback try within the timeout; the text names the filters and the tries there were."""


def _detail(body: bytes) -> str:
    try:
        errors = json.loads(body)["errors"]
        return "; ".join(str(error.get("detail")) for error in errors)
    except (ValueError, KeyError, TypeError):
        return body[:500].decode("utf-8", "replace")


def _request(
    method: str, url: str, *, authorization: str, body: Any = None, timeout: float = 30.0
) -> dict[str, Any] | None:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": authorization, "Accept": "application/vnd.api+json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    path = urllib.parse.urlsplit(url).path
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            raise SandboxError(method, path, exc.code, _detail(exc.read())) from None
    if not raw:
        return None
    document: dict[str, Any] = json.loads(raw)
    return document


def _basic(access_key: str, secret_key: str) -> str:
    return "Basic " + base64.b64encode(f"{access_key}:{secret_key}".encode()).decode()


def _query(**filters: Any) -> str:
    pairs = {name.rstrip("_"): value for name, value in filters.items() if value is not None}
    return urllib.parse.urlencode(pairs)


@dataclass
class SandboxAdmin:
    """The admin side of a sandbox server (its admin token)."""

    base_url: str
    admin_token: str = field(repr=False)

    def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any] | None:
        url = f"{self.base_url}{path}"
        return _request(method, url, authorization=f"Bearer {self.admin_token}", body=body)

    def create_account(
        self, *, numbers: int | list[str] = 1, area_code: str | None = None, **more: Any
    ) -> SandboxAccount:
        body = {"numbers": numbers, **({"area_code": area_code} if area_code else {}), **more}
        document = self._call("POST", "/sandbox/accounts", body)
        assert document is not None
        attributes = document["data"]["attributes"]
        keys = attributes["access_key"], attributes["secret_key"]
        return SandboxAccount(self.base_url, *keys, numbers=attributes["numbers"], admin=self)

    def delete_account(self, access_key: str) -> None:
        self._call("DELETE", f"/sandbox/accounts/{urllib.parse.quote(access_key, safe='')}")

    def inject_inbound(
        self,
        *,
        from_: str | None = None,
        to: str | None = None,
        body: str | None = None,
        media_urls: list[str] | None = None,
        reply_to: str | None = None,
    ) -> str:
        """An SMS (or MMS) from the outside world to `to`, or a reply to the outbound message `reply_to` (from
        its `to` to its `from`); the new message's id."""
        given = {"from": from_, "to": to, "body": body, "media_urls": media_urls or None, "reply_to": reply_to}
        message = {name: value for name, value in given.items() if value is not None}
        document = self._call("POST", "/sandbox/inbound", message)
        assert document is not None
        return str(document["data"]["id"])

    def clock(self) -> dict[str, Any]:
        """The deployment's virtual clock: `now`, `real_time` and `offset_seconds`."""
        document = self._call("GET", "/sandbox/clock")
        assert document is not None
        attributes: dict[str, Any] = document["data"]["attributes"]
        return attributes

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the deployment's clock forward (for every account: receipt delays, callback retries,
        idempotency keys, rate limits, retention); the clock afterwards."""
        document = self._call("POST", "/sandbox/clock/advance", {"seconds": seconds})
        assert document is not None
        attributes: dict[str, Any] = document["data"]["attributes"]
        return attributes


@dataclass
class SandboxAccount:
    """One account on a sandbox server, with the number(s) it bought."""

    base_url: str
    access_key: str
    secret_key: str = field(repr=False)
    numbers: list[str] = field(default_factory=list)
    admin: SandboxAdmin | None = field(default=None, repr=False)  # for `inject_inbound`

    @property
    def number(self) -> str:
        """The account's first number (the one the pytest fixture buys)."""
        if not self.numbers:
            raise AssertionError("this sandbox account has no number; create it with numbers=1 or more")
        return self.numbers[0]

    def _get(self, path: str, query: str, timeout: float = 30.0) -> dict[str, Any]:
        url = f"{self.base_url}{path}?{query}" if query else f"{self.base_url}{path}"
        document = _request("GET", url, authorization=_basic(self.access_key, self.secret_key), timeout=timeout)
        assert document is not None
        return document

    def _wait(self, path: str, query: str, timeout: float, not_found: type[AssertionError]) -> dict[str, Any]:
        __tracebackhide__ = True
        try:
            document = self._get(path, query, timeout=timeout + _SLACK)
        except SandboxError as exc:
            if exc.status == 408:
                raise not_found(exc.detail) from None
            raise
        record: dict[str, Any] = document["data"]
        return record

    def messages(self, *, limit: int = 100, **filters: Any) -> list[dict[str, Any]]:
        """The account's messages matching `filters` (`to`, `from_`, `direction`, `status`, `contains`,
        `after`, `before`), newest first: JSON:API message records, each with `attributes.codes`."""
        found: list[dict[str, Any]] = self._get("/sandbox/messages", _query(limit=limit, **filters))["data"]
        return found

    def wait_for_message(
        self,
        to: str | None = None,
        from_: str | None = None,
        contains: str | None = None,
        direction: str | None = None,
        timeout: float = 10,
        **filters: Any,
    ) -> dict[str, Any]:
        """The newest message matching the filters, as soon as one exists; fails the test (MessageNotArrived)
        after `timeout` seconds, saying what it waited for and which messages did arrive."""
        __tracebackhide__ = True  # pytest shows the caller's line, not this module's
        query = _query(to=to, from_=from_, contains=contains, direction=direction, timeout=timeout, **filters)
        return self._wait("/sandbox/messages/wait", query, timeout, MessageNotArrived)

    def otp(
        self,
        to: str | None = None,
        from_: str | None = None,
        contains: str | None = None,
        direction: str | None = None,
        timeout: float = 10,
    ) -> str:
        """The one-time code of the newest matching message (waiting for it like `wait_for_message`)."""
        __tracebackhide__ = True
        record = self.wait_for_message(to=to, from_=from_, contains=contains, direction=direction, timeout=timeout)
        codes: list[str] = record["attributes"]["codes"]
        if not codes:
            body = record["attributes"]["body"]
            raise MessageNotArrived(f"the newest matching message {record['id']} holds no one-time code: {body!r}")
        return codes[0]

    def callbacks(self, *, limit: int = 100, **filters: Any) -> list[dict[str, Any]]:
        """The callbacks telroute tried to send this account's app, newest first, matching `filters`
        (`message_id`, `kind`, `outcome`, `status`, `after`, `before`): each with `url`, `payload`, `status`,
        `latency_ms`, `error`, `attempt`, `dead_lettered` and `outcome` among its attributes."""
        found: list[dict[str, Any]] = self._get("/sandbox/callbacks", _query(limit=limit, **filters))["data"]
        return found

    def wait_for_callback(
        self,
        message_id: str | None = None,
        kind: str | None = None,
        outcome: str | None = None,
        timeout: float = 10,
        **filters: Any,
    ) -> dict[str, Any]:
        """The newest matching callback try, as soon as one exists; fails the test (CallbackNotTried) after
        `timeout` seconds, saying what it waited for and which tries there were."""
        __tracebackhide__ = True
        query = _query(message_id=message_id, kind=kind, outcome=outcome, timeout=timeout, **filters)
        return self._wait("/sandbox/callbacks/wait", query, timeout, CallbackNotTried)

    def reset(self) -> None:
        """Forget the account's messages, receipts, media, callback attempts and pending jobs."""
        url = f"{self.base_url}/sandbox/reset"
        _request("POST", url, authorization=_basic(self.access_key, self.secret_key))

    def inject_inbound(
        self,
        *,
        from_: str | None = None,
        body: str | None = None,
        media_urls: list[str] | None = None,
        to: str | None = None,
        reply_to: str | None = None,
    ) -> str:
        """A message from the outside world to this account's number (or `to`), or a reply to its outbound
        message `reply_to`; the new message's id."""
        to = to or (None if reply_to else self.number)
        admin = self._admin("injecting an inbound message")
        return admin.inject_inbound(from_=from_, to=to, body=body, media_urls=media_urls, reply_to=reply_to)

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move the deployment's virtual clock forward by `seconds` (it is shared: every account's time
        moves; see `SandboxAdmin.advance_clock`)."""
        return self._admin("moving the clock").advance_clock(seconds)

    def _admin(self, what: str) -> SandboxAdmin:
        if self.admin is None:
            raise AssertionError(f"{what} needs the server's admin token")
        return self.admin
