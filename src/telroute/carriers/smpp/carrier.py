"""`SmppCarrier`: the `Carrier` interface over one SMPP link.

Outbound: a message becomes one submit_sm per part (or one with a message_payload TLV); the
result carries one SMSC id per part. Inbound: receipts become `CarrierReceipt`s under the id the
submit_sm_resp gave; other deliver_sm are reassembled into `CarrierInbound`s. Each deliver_sm is
acknowledged only after its event handler has returned (it commits first).
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from telroute.carriers.counters import CarrierCounters
from telroute.carriers.smpp import coding
from telroute.carriers.smpp import events as smpp_events
from telroute.carriers.smpp.concat import OutboundPart, Reassembler, build_parts
from telroute.carriers.smpp.config import SmppLinkConfig
from telroute.carriers.smpp.pdu import MessageId, Pdu, PduError, ShortMessage, Status, status_name
from telroute.carriers.smpp.receipts import IdIndex, ReceiptError, is_receipt, parse_receipt
from telroute.carriers.smpp.session import SmppSession
from telroute.kit import metrics
from telroute.messages.carrier_port import (
    CarrierEvents,
    CarrierInbound,
    CarrierReceipt,
    OutboundMessage,
    PermanentCarrierError,
    SubmitResult,
    TransientCarrierError,
)

# Answers to submit_sm that say "not now" rather than "never".
TRANSIENT_STATUSES = frozenset(
    {
        Status.ESME_RINVBNDSTS,
        Status.ESME_RSYSERR,
        Status.ESME_RMSGQFUL,
        Status.ESME_RTHROTTLED,
        Status.ESME_RX_T_APPN,
    }
)
# Refusals where the SMSC accepted the message's form but could not take it on.
FAILED_STATUSES = frozenset({Status.ESME_RSUBMITFAIL, Status.ESME_RDELIVERYFAILURE, Status.ESME_RUNKNOWNERR})


class SmppCarrier:
    def __init__(self, config: SmppLinkConfig) -> None:
        self.name = config.name
        self.config = config
        self._counters = CarrierCounters()
        self._ids = IdIndex()
        self._reassembler = Reassembler()
        self._reference = random.randrange(256)
        self._session: SmppSession | None = None
        self._events: CarrierEvents | None = None

    async def start(self, events: CarrierEvents) -> None:
        """Start the link; returns after the first bind attempt, bound or not (see `status()`)."""
        if self._session is not None:
            return
        self._events = events
        metrics.declare_smpp_events(self.name, smpp_events.ALL)
        self._session = SmppSession(self.config, self._on_deliver, self._record_error, self._count_event)
        await self._session.start()

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.stop()

    async def submit(self, message: OutboundMessage) -> SubmitResult:
        if message.is_mms:
            raise PermanentCarrierError("an SMPP link carries SMS, not MMS", status="rejected")
        session = self._running_session()
        parts = build_parts(
            message.body or "",
            link_coding=self.config.data_coding,
            long_messages=self.config.long_messages,
            reference=self._next_reference(),
        )
        submits = [session.submit(self._short_message(message, part), self._ids.remember) for part in parts]
        self._counters.in_flight += 1
        try:
            outcomes = await asyncio.gather(*submits, return_exceptions=True)
        finally:
            self._counters.in_flight -= 1
        return self._result(message, outcomes)

    def status(self) -> dict[str, Any]:
        session = self._session
        counters = self._counters
        return {
            "name": self.name,
            "kind": "smpp",
            "host": self.config.host,
            "port": self.config.port,
            "bound": bool(session and session.bound),
            "in_flight": session.in_flight if session else 0,
            "messages_in_flight": counters.in_flight,
            "sent": counters.sent,
            "segments_sent": counters.extra.get("segments_sent", 0),
            "receipts": counters.receipts,
            "inbound": counters.inbound,
            "errors": counters.errors,
            "last_error": counters.last_error,
            "throttled": session.throttle.hits if session else 0,
            "binds": session.binds if session else 0,
        }

    # --- outbound -----------------------------------------------------------------------------

    def _running_session(self) -> SmppSession:
        if self._session is None:
            raise TransientCarrierError(f"SMPP link {self.name} is not started")
        return self._session

    def _next_reference(self) -> int:
        self._reference = (self._reference + 1) % 256
        return self._reference

    def _short_message(self, message: OutboundMessage, part: OutboundPart) -> ShortMessage:
        config = self.config
        return ShortMessage(
            source_addr=message.from_number.lstrip("+"),
            destination_addr=message.to_number.lstrip("+"),
            short_message=part.short_message,
            source_addr_ton=config.source_ton,
            source_addr_npi=config.source_npi,
            dest_addr_ton=config.dest_ton,
            dest_addr_npi=config.dest_npi,
            esm_class=part.esm_class,
            registered_delivery=config.registered_delivery,
            data_coding=part.data_coding,
            tlvs=part.tlvs,
        )

    def _result(self, message: OutboundMessage, outcomes: list[Pdu | BaseException]) -> SubmitResult:
        error = _outcome_error(outcomes)
        if error is not None:
            self._record_error(f"submit of {message.public_id} failed: {error}")
            raise error
        ids = tuple(o.body.message_id for o in outcomes if isinstance(o, Pdu) and isinstance(o.body, MessageId))
        self._counters.sent += 1
        self._counters.extra["segments_sent"] = self._counters.extra.get("segments_sent", 0) + len(ids)
        return SubmitResult(ids)

    # --- inbound ------------------------------------------------------------------------------

    async def _on_deliver(self, message: ShortMessage) -> int:
        try:
            if is_receipt(message):
                await self._on_receipt(message)
            else:
                await self._on_inbound(message)
        except (PduError, ReceiptError) as exc:
            self._record_error(f"unusable deliver_sm from {message.source_addr}: {exc}")
            return int(exc.status) if isinstance(exc, PduError) else int(Status.ESME_RX_P_APPN)
        except Exception as exc:  # the link answers ESME_RX_T_APPN, so the SMSC delivers it again
            self._record_error(f"handling a deliver_sm from {message.source_addr} failed: {exc}")
            raise
        return int(Status.ESME_ROK)

    async def _on_receipt(self, message: ShortMessage) -> None:
        receipt = parse_receipt(message, coding.decode(message.short_message, message.data_coding))
        carrier_id = self._ids.resolve(receipt.message_id)
        if carrier_id is None:  # still recorded: the database may know it from before a restart
            self._count_event(smpp_events.UNKNOWN_RECEIPT)
            carrier_id = receipt.message_id
        await self._require_events().receipt(CarrierReceipt(self.name, carrier_id, receipt.state, receipt.error_code))
        self._counters.receipts += 1

    async def _on_inbound(self, message: ShortMessage) -> None:
        completed = self._reassembler.accept(message)
        if completed is None:
            return
        inbound = CarrierInbound(self.name, completed.source, completed.destination, completed.text)
        await self._require_events().inbound(inbound)
        self._reassembler.done(completed)
        self._counters.inbound += 1

    def _require_events(self) -> CarrierEvents:
        if self._events is None:
            raise RuntimeError("SmppCarrier.start() was not called")
        return self._events

    def _count_event(self, event: str) -> None:
        metrics.count_smpp_event(self.name, event)

    def _record_error(self, detail: str) -> None:
        self._counters.errors += 1
        self._counters.last_error = detail


def _outcome_error(outcomes: list[Pdu | BaseException]) -> BaseException | None:
    """What a submit raises given the outcome of each part: a permanent refusal of any part
    wins (retrying cannot help), then a transient one; an unexpected exception is a bug."""
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, TransientCarrierError | PduError):
            return outcome
    for outcome in outcomes:
        if isinstance(outcome, PduError):
            return PermanentCarrierError(f"cannot be sent over SMPP: {outcome}", code=outcome.status)
        if isinstance(outcome, Pdu) and outcome.status not in (Status.ESME_ROK, *TRANSIENT_STATUSES):
            return _permanent(outcome)
    for outcome in outcomes:
        if isinstance(outcome, TransientCarrierError):
            return outcome
        if isinstance(outcome, Pdu) and outcome.status != Status.ESME_ROK:
            return TransientCarrierError(f"the SMSC answered {status_name(outcome.status)}")
    return None


def _permanent(response: Pdu) -> PermanentCarrierError:
    status = "failed" if response.status in FAILED_STATUSES else "rejected"
    return PermanentCarrierError(
        f"the SMSC refused the message: {status_name(response.status)}", status=status, code=response.status
    )
