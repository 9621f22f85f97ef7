"""uvicorn's HTTP/1.1 protocol (httptools) with the limits production HTTP servers have.

- A request head (request line and headers) over `max_head_bytes` is answered 431.
- A head must be complete `head_timeout` after the connection opens, or after its first byte on a kept-alive
  connection; else 408 (or, when not one byte was sent, a silent close, as for an idle keep-alive connection).
- A body must keep coming (`body_idle_timeout` between bytes) and be complete within `body_timeout`; else 408.
- At `max_connections` open connections, a new one makes room: the connection that has waited longest for
  a request (see waiting.py) is answered 503 and closed. When every connection is inside a request, the new
  one itself is answered 503 at once, before it sends anything, and closed: a refusal costs no parsing, and
  a refused health check reports what is true, that this process takes no more clients. Each of the two is
  logged as one warning when it first happens, then at most once a minute with a count.
- Every answer the server writes itself is a JSON:API error document, like the app's.

Idle keep-alive connections are closed by uvicorn (`timeout_keep_alive`).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any, ClassVar

import httptools
import structlog
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from telroute.edge.answer import error_answer
from telroute.edge.limits import EdgeLimits
from telroute.edge.one_write import OneWriteTransport
from telroute.edge.waiting import WaitingConnections
from telroute.errors import BadRequest, RequestHeaderFieldsTooLarge, RequestTimeout, ServiceUnavailable, TelrouteError
from telroute.kit.throttle import Throttle

log = structlog.get_logger("telroute.edge")

# After an answer of its own the server half-closes and discards what the client still sends, for at most
# this long: closing with unread bytes makes the kernel reset the connection, which can destroy the answer
# before the client reads it.
LINGER_SECONDS = 2.0
LOGGED_AT_MOST_EVERY = 60.0


def protocol_for(limits: EdgeLimits) -> type[EdgeProtocol]:
    """A protocol class for one listening port: its limits and the throttle of its refusal warning."""
    chosen = limits

    class ListenerProtocol(EdgeProtocol):
        limits = chosen
        waiting = WaitingConnections["EdgeProtocol"]()
        evictions = Throttle(LOGGED_AT_MOST_EVERY)
        refusals = Throttle(LOGGED_AT_MOST_EVERY)

    return ListenerProtocol


class EdgeProtocol(HttpToolsProtocol):
    limits: ClassVar[EdgeLimits]
    waiting: ClassVar[WaitingConnections[EdgeProtocol]]
    evictions: ClassVar[Throttle]
    refusals: ClassVar[Throttle]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._clock: asyncio.TimerHandle | None = None
        self._reading_head = True
        self._head_bytes = 0
        self._requests_read = 0
        self._body_started = 0.0
        self._body_progress = 0.0
        self._discarding = False  # the last answer is written: what the client still sends is dropped

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections and not self._make_room():
            self.connections.discard(self)
            self._report(self.refusals, "every connection is inside a request, so new ones are answered 503", "refused")
            self._answer(_at_the_limit())
            return
        self.waiting.waits(self)
        self._arm(self.limits.head_timeout, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self.waiting.done(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        if self._reading_head:
            self._read_head(data)
        else:
            super().data_received(data)
        self._time_what_is_unfinished()

    def _read_head(self, data: bytes) -> None:
        room = self.limits.max_head_bytes - self._head_bytes
        self._head_bytes += min(len(data), room)
        if len(data) <= room:
            super().data_received(data)
            return
        # Only the bytes that fit are parsed: whether the head ends among them decides.
        requests_before = self._requests_read
        super().data_received(data[:room])
        if self._discarding:
            return
        if self._reading_head and self._requests_read == requests_before:
            self._head_too_large()
        else:
            self.data_received(data[room:])

    def _time_what_is_unfinished(self) -> None:
        """After a read, start the clock of a head or body it left unfinished (a request read whole in one
        read, the common case, costs no timer)."""
        if self._clock is not None or self._discarding:
            return
        if not self._reading_head:
            self._body_started = self._body_progress = self.loop.time()
            self._arm(min(self.limits.body_idle_timeout, self.limits.body_timeout), self._check_body)
        elif self._head_bytes > 0:
            self._arm(self.limits.head_timeout, self._head_timed_out)

    # A pipelined head that starts in the same read as the end of the request before it is counted from the
    # next read on: at worst `max_head_bytes` more than the limit are parsed, never an unbounded amount.
    def on_message_complete(self) -> None:
        self._disarm()
        self._requests_read += 1
        self._reading_head = True
        self._head_bytes = 0
        super().on_message_complete()

    def on_headers_complete(self) -> None:
        self._disarm()
        self._reading_head = False
        self.waiting.done(self)
        before = self.cycle
        super().on_headers_complete()
        if self.cycle is not None and self.cycle is not before:  # a new request's cycle (not an upgrade's)
            self.cycle.transport = OneWriteTransport(self.transport, self.loop)  # type: ignore[assignment]

    def on_body(self, body: bytes) -> None:
        self._body_progress = self.loop.time()
        super().on_body(body)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.cycle.response_complete and not self.transport.is_closing():
            self.waiting.waits(self)

    def send_400_response(self, msg: str) -> None:
        self._answer(BadRequest(_unparsable_detail(), code="invalid_http_request"))

    def _head_timed_out(self) -> None:
        self._clock = None
        if self._answering():
            self._close_after_answer()
        elif self._head_bytes == 0:
            self.transport.close()
        else:
            self._answer(RequestTimeout(f"the request head did not arrive within {self.limits.head_timeout:g} s"))

    def _head_too_large(self) -> None:
        if self._answering():
            self._close_after_answer()
        else:
            limit = self.limits.max_head_bytes
            self._answer(RequestHeaderFieldsTooLarge(f"the request line and headers are larger than {limit} bytes"))

    def _check_body(self) -> None:
        self._clock = None
        now = self.loop.time()
        if self.flow.read_paused or self.cycle.waiting_for_100_continue:
            # The app has not yet taken the body that came, or not yet asked for it (the client waits for
            # "100 Continue"): the wait is the server's, not the client's.
            self._body_progress = now
            self._arm(self.limits.body_idle_timeout, self._check_body)
            return
        limits = self.limits
        deadline = min(self._body_progress + limits.body_idle_timeout, self._body_started + limits.body_timeout)
        if now < deadline:
            self._arm(deadline - now, self._check_body)
        else:
            self._body_timed_out()

    def _body_timed_out(self) -> None:
        if self.cycle.response_started:
            self.transport.close()
            return
        # To the app the client is gone: its reads end and what it would write is dropped.
        self.cycle.disconnected = True
        self.cycle.message_event.set()
        timeout = self.limits.body_timeout
        self._answer(RequestTimeout(f"the request body did not arrive in time (at most {timeout:g} s)"))

    def _answering(self) -> bool:
        """Whether a response to an earlier request on this connection is still being written."""
        return self.cycle is not None and not self.cycle.response_complete

    def _close_after_answer(self) -> None:
        self.cycle.keep_alive = False
        self._discarding = True

    def _make_room(self) -> bool:
        """Close the connection that has waited longest for a request, if any connection is waiting."""
        oldest = self.waiting.longest_waiting()
        if oldest is None:
            return False
        oldest._make_way()
        self._report(self.evictions, "the connections that waited longest for a request make room", "closed")
        return True

    def _make_way(self) -> None:
        self.connections.discard(self)
        self.waiting.done(self)
        if not self.transport.is_closing():  # else it was closing already (a timeout), only not yet gone
            # Answered even when it sent nothing (yet): a client about to send learns why, and a request
            # already on its way is read and dropped, so the close does not reset the connection.
            self._answer(_at_the_limit())

    def _answer(self, error: TelrouteError) -> None:
        """Write `error` as the last response on this connection, then close it gently (see LINGER_SECONDS)."""
        self.waiting.done(self)
        self._discarding = True
        self.flow.resume_reading()
        self.transport.write(error_answer(error, self.server_state.default_headers))
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self.transport.write_eof()
        self._arm(LINGER_SECONDS, self.transport.close)

    def _report(self, throttle: Throttle, what: str, counted_as: str) -> None:
        count = throttle.occurred(self.loop.time())
        if count is not None:
            host, port = self.server or ("?", None)
            log.warning(
                f"connection limit reached: {what}",
                listen=f"{host}:{port}",
                limit=self.limits.max_connections,
                **{counted_as: count},
                logged_at_most_every_seconds=LOGGED_AT_MOST_EVERY,
            )

    def _arm(self, delay: float, callback: Callable[[], None]) -> None:
        self._disarm()
        self._clock = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            self._clock = None


def _at_the_limit() -> ServiceUnavailable:
    return ServiceUnavailable("the server is at its connection limit; try again shortly", code="connection_limit")


def _unparsable_detail() -> str:
    # uvicorn calls send_400_response inside its `except httptools.HttpParserError:`, so the parser's
    # reason (a fixed phrase such as "Invalid header token", never request data) is the exception in hand.
    error = sys.exc_info()[1]
    if not isinstance(error, httptools.HttpParserError) or isinstance(error, httptools.HttpParserCallbackError):
        return "the request is not valid HTTP/1.1"
    reason = str(error)
    return f"the request is not valid HTTP/1.1: {reason[:1].lower()}{reason[1:]}"
