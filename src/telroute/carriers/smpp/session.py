"""The life of one SMPP link: connect, bind, keep alive with enquire_link, reconnect with
exponential backoff, unbind on stop; and submits through it under the link's window, maximum
rate and the SMSC's throttling.

Faults (counted through `on_event`, see `events.py`): a lost connection or an unbind from the SMSC
reconnects; a request left unanswered past the response timeout ends the session, so the rest of
the window fails at once and is submitted again rather than each waiting out its own timeout;
ESME_RTHROTTLED / ESME_RMSGQFUL pause the link and resubmit; a generic_nack fails that submit as
transient (the delivery job retries it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog

from telroute.carriers.smpp import events
from telroute.carriers.smpp.config import SmppLinkConfig
from telroute.carriers.smpp.events import EventHook
from telroute.carriers.smpp.link import (
    Connection,
    DeliverHandler,
    EndedBy,
    LinkError,
    ResponseHook,
    ResponseTimeout,
)
from telroute.carriers.smpp.pacing import RateLimiter, Throttle
from telroute.carriers.smpp.pdu import Bind, Command, Empty, MessageId, Pdu, ShortMessage, Status, status_name

log = structlog.get_logger("telroute.smpp")

THROTTLE_EVENTS = {Status.ESME_RTHROTTLED: events.THROTTLED, Status.ESME_RMSGQFUL: events.QUEUE_FULL}
ENDED_BY_SMSC: dict[EndedBy, str] = {"lost": events.CONNECTION_LOST, "unbind": events.UNBIND_RECEIVED}
INITIAL_RECONNECT_DELAY = 0.25
BIND_COMMANDS = {
    "transceiver": Command.BIND_TRANSCEIVER,
    "transmitter": Command.BIND_TRANSMITTER,
    "receiver": Command.BIND_RECEIVER,
}

ErrorHook = Callable[[str], None]
AcceptedHook = Callable[[str], None]


def _ignore(_: str) -> None:
    pass


class SmppSession:
    def __init__(
        self,
        config: SmppLinkConfig,
        on_deliver: DeliverHandler,
        on_error: ErrorHook = _ignore,
        on_event: EventHook = _ignore,
    ) -> None:
        self.config = config
        self._on_deliver = on_deliver
        self._on_error = on_error
        self._on_event = on_event
        self._connection: Connection | None = None
        self._window = asyncio.Semaphore(config.window)
        self._rate = RateLimiter(config.max_rate)
        self.throttle = Throttle()
        self._runner: asyncio.Task[None] | None = None
        self._first_attempt = asyncio.Event()
        self._wake = asyncio.Event()
        self._stopping = False
        self.in_flight = 0
        self.binds = 0
        self.last_error: str | None = None

    @property
    def bound(self) -> bool:
        return self._connection is not None

    async def start(self) -> None:
        """Start the link and return once the first connect-and-bind attempt has an outcome."""
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name=f"smpp-link-{self.config.name}")
        await self._first_attempt.wait()

    async def stop(self) -> None:
        """Wait for outstanding submits and deliver_sm handlers, unbind, close."""
        self._stopping = True
        self._wake.set()
        connection = self._connection
        if connection is not None:
            await self._drain(connection)
            with contextlib.suppress(LinkError):
                await connection.request(Command.UNBIND, Empty(), min(self.config.response_timeout, 5.0))
            await connection.close("unbound on stop")
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)

    async def submit(self, message: ShortMessage, on_accepted: AcceptedHook | None = None) -> Pdu:
        """Submit one submit_sm; returns the SMSC's answer (its command_status may be an error).
        Throttling answers are retried here. Raises LinkError when the link cannot carry it."""
        hook = _accepted_hook(on_accepted)
        for _ in range(self.config.throttle_retries + 1):
            response = await self._submit_once(message, hook)
            if response.status not in THROTTLE_EVENTS:
                self.throttle.success()
                return response
            self._on_event(THROTTLE_EVENTS[Status(response.status)])
            self.throttle.hit()
        raise LinkError(
            f"still throttled after {self.config.throttle_retries} resubmits ({status_name(response.status)})"
        )

    async def _submit_once(self, message: ShortMessage, hook: ResponseHook | None) -> Pdu:
        async with self._window:
            await self.throttle.wait()
            await self._rate.wait()
            connection = self._bound_connection()
            self.in_flight += 1
            try:
                response = await connection.request(Command.SUBMIT_SM, message, self.config.response_timeout, hook)
            except ResponseTimeout as exc:
                await self._give_up_on(connection, f"submit_sm unanswered: {exc}")
                raise
            finally:
                self.in_flight -= 1
        if response.command is Command.GENERIC_NACK:
            self._on_event(events.GENERIC_NACK)
            raise LinkError(f"the SMSC answered generic_nack ({status_name(response.status)})")
        if response.status == Status.ESME_RINVBNDSTS:
            await connection.close("the SMSC says we are not bound")
            raise LinkError(f"submit refused: {status_name(response.status)}; rebinding")
        return response

    async def _give_up_on(self, connection: Connection, reason: str) -> None:
        """An SMSC that leaves a request unanswered has lost track of this session: reconnect, so that
        the other submits in flight fail now (to be submitted again) instead of each timing out."""
        if connection.close_reason is None:  # counted once per session given up on
            self._on_event(events.RESPONSE_TIMEOUT)
        await connection.close(reason)

    def _bound_connection(self) -> Connection:
        if self._stopping:
            raise LinkError(f"link {self.config.name} is stopping")
        if self._connection is None:
            raise LinkError(f"link {self.config.name} is not bound: {self.last_error or 'connecting'}")
        return self._connection

    async def _drain(self, connection: Connection) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.response_timeout
        while self.in_flight and loop.time() < deadline:
            await asyncio.sleep(0.01)
        await connection.wait_handlers(max(0.0, deadline - loop.time()))

    # --- the connection loop ------------------------------------------------------------------

    async def _run(self) -> None:
        delay = INITIAL_RECONNECT_DELAY
        while not self._stopping:
            was_bound = await self._connect_once()
            self._first_attempt.set()
            if self._stopping:
                return
            delay = INITIAL_RECONNECT_DELAY if was_bound else min(delay * 2, self.config.reconnect_max_delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _connect_once(self) -> bool:
        """One connection: True when it got bound before it ended."""
        config = self.config
        try:
            connection = await Connection.open(config.host, config.port, config.response_timeout, self._on_deliver)
        except (OSError, TimeoutError) as exc:
            self._error(f"cannot connect to {config.host}:{config.port}: {exc or type(exc).__name__}")
            return False
        serving = asyncio.create_task(connection.serve())
        try:
            return await self._bind_and_serve(connection, serving)
        except LinkError as exc:
            self._error(f"bind to {config.host}:{config.port} failed: {exc}")
            return False
        finally:
            self._connection = None
            await connection.close()
            await serving

    async def _bind_and_serve(self, connection: Connection, serving: asyncio.Task[str]) -> bool:
        command = BIND_COMMANDS[self.config.bind_mode]
        response = await connection.request(command, self._bind_body(), self.config.response_timeout)
        if response.status != Status.ESME_ROK:
            self._error(f"bind refused by {self.config.host}:{self.config.port}: {status_name(response.status)}")
            return False
        self._connection = connection
        self.binds += 1
        self._first_attempt.set()
        log.info("smpp.bound", link=self.config.name, host=self.config.host, port=self.config.port)
        keepalive = asyncio.create_task(self._keepalive(connection))
        try:
            reason = await serving
        finally:
            keepalive.cancel()
            await asyncio.gather(keepalive, return_exceptions=True)
        if not self._stopping:
            if connection.ended_by_smsc is not None:
                self._on_event(ENDED_BY_SMSC[connection.ended_by_smsc])
            self._error(f"link to {self.config.host}:{self.config.port} lost: {reason}")
        return True

    async def _keepalive(self, connection: Connection) -> None:
        while True:
            await asyncio.sleep(self.config.enquire_link_interval)
            try:
                await connection.request(Command.ENQUIRE_LINK, Empty(), self.config.response_timeout)
            except ResponseTimeout as exc:
                await self._give_up_on(connection, f"enquire_link failed: {exc}")
                return
            except LinkError as exc:
                await connection.close(f"enquire_link failed: {exc}")
                return

    def _bind_body(self) -> Bind:
        return Bind(self.config.system_id, self.config.password, self.config.system_type)

    def _error(self, message: str) -> None:
        log.warning("smpp.link_error", link=self.config.name, error=message)
        self.last_error = message
        self._on_error(message)


def _accepted_hook(on_accepted: AcceptedHook | None) -> ResponseHook | None:
    if on_accepted is None:
        return None

    def hook(response: Pdu) -> None:
        if response.status == Status.ESME_ROK and isinstance(response.body, MessageId):
            on_accepted(response.body.message_id)

    return hook
