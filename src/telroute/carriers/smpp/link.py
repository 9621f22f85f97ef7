"""One TCP connection speaking SMPP: framing, sequence numbers matched to responses, and the
answers every ESME owes its SMSC (enquire_link, unbind, deliver_sm, generic_nack). An unbind from
the SMSC stops new requests and is answered once the answers to those in flight are in (or a
response timeout has passed), so that none of them needs to be submitted again.

A PDU that does not decode is answered with generic_nack and the connection carries on; only a
broken frame length (after which the stream cannot be re-synchronised) closes the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Literal

import structlog

from telroute.carriers.smpp.pdu import (
    RESPONSE_BIT,
    Body,
    Command,
    Empty,
    MessageId,
    Pdu,
    PduError,
    ShortMessage,
    Status,
    decode,
    encode,
    read_length,
)
from telroute.messages.carrier_port import TransientCarrierError

log = structlog.get_logger("telroute.smpp")

MAX_SEQUENCE = 0x7FFFFFFF

DeliverHandler = Callable[[ShortMessage], Awaitable[int]]
"""Handles one deliver_sm and returns the command_status of its deliver_sm_resp."""

ResponseHook = Callable[[Pdu], None]

EndedBy = Literal["lost", "unbind"]
"""How the SMSC ended a connection: it closed or broke it, or it unbound."""


class LinkError(TransientCarrierError):
    """The link cannot carry this request now: not bound, lost, timed out, or throttled."""


class ResponseTimeout(LinkError):
    """The SMSC did not answer a request in time (it may still have acted on it)."""


class Connection:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_deliver: DeliverHandler,
        response_timeout: float = 10.0,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._on_deliver = on_deliver
        self._response_timeout = response_timeout
        self._pending: dict[int, tuple[asyncio.Future[Pdu], ResponseHook | None]] = {}
        self._sequence = 0
        self._handlers: set[asyncio.Task[None]] = set()
        self.close_reason: str | None = None
        self.ended_by_smsc: EndedBy | None = None

    @classmethod
    async def open(cls, host: str, port: int, timeout: float, on_deliver: DeliverHandler) -> Connection:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        return cls(reader, writer, on_deliver, timeout)

    async def request(
        self, command: Command, body: Body, timeout: float, on_response: ResponseHook | None = None
    ) -> Pdu:
        """Send a request and wait for its response (or a generic_nack with its sequence).
        `on_response` runs in the read loop as the response arrives, before any later PDU."""
        if self.ended_by_smsc == "unbind":
            raise LinkError("the SMSC is unbinding the link")
        sequence = self._next_sequence()
        future: asyncio.Future[Pdu] = asyncio.get_running_loop().create_future()
        self._pending[sequence] = (future, on_response)
        try:
            async with asyncio.timeout(timeout):  # covers a send stuck on a peer that stopped reading
                await self.send(Pdu(command, sequence, 0, body))
                return await future
        except TimeoutError:
            raise ResponseTimeout(f"no {command.response.name.lower()} within {timeout:g}s") from None
        finally:
            self._pending.pop(sequence, None)
            if not future.done():
                future.cancel()
            elif not future.cancelled():
                future.exception()  # failed while the send was still under way: the caller has its own error

    async def send(self, pdu: Pdu) -> None:
        if self.close_reason is not None or self._writer.is_closing():
            raise LinkError(f"connection closed: {self.close_reason or 'closing'}")
        self._writer.write(encode(pdu))
        try:
            await self._writer.drain()
        except OSError as exc:
            raise LinkError(f"connection lost: {exc}") from exc

    async def serve(self) -> str:
        """Read and dispatch PDUs until the connection ends; returns why it ended."""
        try:
            while self.close_reason is None:
                frame = await self._read_frame()
                if frame is None:
                    self._mark_lost("closed by the SMSC")
                    break
                self._dispatch(frame)
        except PduError as exc:
            await self._nack(exc)
            self._mark_closed(f"unreadable stream: {exc}")
        except (OSError, asyncio.IncompleteReadError) as exc:
            self._mark_lost(f"connection lost: {exc or type(exc).__name__}")
        finally:
            self._fail_pending()
        return self.close_reason or "closed"

    async def close(self, reason: str = "closed by us") -> None:
        self._mark_closed(reason)
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    async def wait_handlers(self, timeout: float) -> None:
        """Let running deliver_sm handlers finish (they commit before acknowledging)."""
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=timeout)

    def _next_sequence(self) -> int:
        self._sequence = self._sequence % MAX_SEQUENCE + 1
        return self._sequence

    def _mark_closed(self, reason: str) -> None:
        if self.close_reason is None:
            self.close_reason = reason

    def _mark_lost(self, reason: str) -> None:
        """The stream ended; the SMSC's doing unless we had closed the connection ourselves."""
        if self.close_reason is None:
            self.ended_by_smsc = "lost"
        self._mark_closed(reason)

    async def _read_frame(self) -> bytes | None:
        try:
            prefix = await self._reader.readexactly(4)
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise
            return None
        rest = await self._reader.readexactly(read_length(prefix) - 4)
        return prefix + rest

    def _dispatch(self, frame: bytes) -> None:
        try:
            pdu = decode(frame)
        except PduError as exc:
            self._on_bad_pdu(exc)
            return
        if pdu.command.is_response:
            self._resolve(pdu)
        else:
            self._spawn(self._answer(pdu))

    def _on_bad_pdu(self, exc: PduError) -> None:
        log.warning("smpp.bad_pdu", error=str(exc), sequence=exc.sequence)
        if exc.command_id & RESPONSE_BIT:
            self._reject_response(exc)
        else:
            self._spawn(self._nack(exc))

    def _resolve(self, pdu: Pdu) -> None:
        future, hook = self._pending.get(pdu.sequence, (None, None))
        if future is None or future.done():
            log.info("smpp.unmatched_response", command=pdu.command.name, sequence=pdu.sequence)
            return
        if hook is not None:
            hook(pdu)
        future.set_result(pdu)

    def _reject_response(self, exc: PduError) -> None:
        future, _ = self._pending.get(exc.sequence, (None, None))
        if future is not None and not future.done():
            future.set_exception(LinkError(f"unreadable response: {exc}"))

    def _fail_pending(self) -> None:
        for future, _ in self._pending.values():
            if not future.done():
                future.set_exception(LinkError(f"connection lost before the response ({self.close_reason})"))

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _answer(self, pdu: Pdu) -> None:
        with contextlib.suppress(LinkError):
            if pdu.command is Command.ENQUIRE_LINK:
                await self.send(Pdu(Command.ENQUIRE_LINK_RESP, pdu.sequence))
            elif pdu.command is Command.UNBIND:
                self.ended_by_smsc = "unbind"  # and no new requests
                await self._settle()
                await self.send(Pdu(Command.UNBIND_RESP, pdu.sequence))
                await self.close("unbound by the SMSC")
            elif pdu.command is Command.DELIVER_SM and isinstance(pdu.body, ShortMessage):
                status = await self._deliver(pdu.body)
                await self.send(Pdu(Command.DELIVER_SM_RESP, pdu.sequence, status, MessageId()))
            else:
                await self.send(Pdu(Command.GENERIC_NACK, pdu.sequence, Status.ESME_RINVCMDID, Empty()))

    async def _settle(self) -> None:
        """Wait (a response timeout at most) for the answers to our requests in flight: an answer
        lost to the unbind would make its submit go out again."""
        deadline = asyncio.get_running_loop().time() + self._response_timeout
        while self._pending and self.close_reason is None and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)

    async def _deliver(self, message: ShortMessage) -> int:
        try:
            return await self._on_deliver(message)
        except Exception as exc:  # the SMSC must get an answer: a temporary error makes it retry
            log.exception("smpp.deliver_handler_failed", error=str(exc))
            return int(Status.ESME_RX_T_APPN)

    async def _nack(self, exc: PduError) -> None:
        with contextlib.suppress(LinkError):
            await self.send(Pdu(Command.GENERIC_NACK, exc.sequence, exc.status))
