"""The faults an SMPP link survives and counts (`telroute_smpp_events_total` at `/metrics`)."""

from __future__ import annotations

from collections.abc import Callable

CONNECTION_LOST = "connection_lost"  # the SMSC closed or broke the TCP connection
THROTTLED = "throttled"  # a submit_sm answered ESME_RTHROTTLED
QUEUE_FULL = "queue_full"  # a submit_sm answered ESME_RMSGQFUL
GENERIC_NACK = "generic_nack"  # a submit_sm answered with generic_nack
RESPONSE_TIMEOUT = "response_timeout"  # no answer to a submit_sm or enquire_link in time: we reconnect
UNKNOWN_RECEIPT = "unknown_receipt"  # a receipt for an id this link has not submitted since it started
UNBIND_RECEIVED = "unbind_received"  # the SMSC unbound the link

ALL = (CONNECTION_LOST, THROTTLED, QUEUE_FULL, GENERIC_NACK, RESPONSE_TIMEOUT, UNKNOWN_RECEIPT, UNBIND_RECEIVED)

EventHook = Callable[[str], None]
