"""Long messages: outbound parts (8-bit-reference UDH or one message_payload TLV) and the
reassembly of inbound parts (UDH or sar_* TLVs).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from telroute.carriers.smpp import coding
from telroute.carriers.smpp.pdu import PduError, ShortMessage, Status, Tag, read_tlv_int
from telroute.text.segments import split_as

ESM_UDHI = 0x40
IEI_CONCAT_8BIT = 0x00
IEI_CONCAT_16BIT = 0x08
LATIN1_SINGLE, LATIN1_MULTI = 140, 134  # octets, without and with the 6-octet UDH
LONG_MESSAGES = ("udh", "payload")


@dataclass(frozen=True, slots=True)
class OutboundPart:
    """What differs between the submit_sm of each part."""

    short_message: bytes
    data_coding: int
    esm_class: int = 0
    tlvs: dict[int, bytes] = field(default_factory=dict)


def build_parts(text: str, *, link_coding: int, long_messages: str, reference: int) -> list[OutboundPart]:
    data_coding = coding.choose(text, link_coding)
    chunks = split_text(text, data_coding)
    if len(chunks) == 1:
        return [OutboundPart(coding.encode(text, data_coding), data_coding)]
    if long_messages == "payload":
        payload = {Tag.MESSAGE_PAYLOAD.value: coding.encode(text, data_coding)}
        return [OutboundPart(b"", data_coding, tlvs=payload)]
    if long_messages != "udh":
        raise ValueError(f"long_messages must be one of {LONG_MESSAGES}, not {long_messages!r}")
    return [
        OutboundPart(udh(reference, len(chunks), seq) + coding.encode(chunk, data_coding), data_coding, ESM_UDHI)
        for seq, chunk in enumerate(chunks, start=1)
    ]


def split_text(text: str, data_coding: int) -> list[str]:
    if data_coding == coding.DC_LATIN1:
        if len(text) <= LATIN1_SINGLE:
            return [text]
        return [text[start : start + LATIN1_MULTI] for start in range(0, len(text), LATIN1_MULTI)]
    return split_as(text, coding.segment_encoding(data_coding))


def udh(reference: int, total: int, seq: int) -> bytes:
    """The 6-octet user data header of part `seq` of `total`: IEI 0x00, 8-bit reference."""
    return bytes((5, IEI_CONCAT_8BIT, 3, reference & 0xFF, total, seq))


# --- inbound ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartInfo:
    reference: int
    total: int
    seq: int


@dataclass(frozen=True, slots=True)
class Completed:
    source: str
    destination: str
    text: str
    key: tuple[str, str, int, int] | None = None


def split_user_data(sm: ShortMessage) -> tuple[PartInfo | None, bytes]:
    """(concatenation info or None, the message octets without any UDH)."""
    raw = sm.tlvs.get(Tag.MESSAGE_PAYLOAD, sm.short_message)
    if sm.esm_class & ESM_UDHI:
        return _split_udh(raw)
    return _sar_info(sm), raw


def _split_udh(raw: bytes) -> tuple[PartInfo | None, bytes]:
    if not raw or 1 + raw[0] > len(raw):
        raise PduError("UDH length runs past the message", status=Status.ESME_RINVMSGLEN)
    header, body = raw[1 : 1 + raw[0]], raw[1 + raw[0] :]
    offset = 0
    while offset + 2 <= len(header):
        iei, length = header[offset], header[offset + 1]
        value = header[offset + 2 : offset + 2 + length]
        offset += 2 + length
        if iei == IEI_CONCAT_8BIT and len(value) == 3:
            return PartInfo(value[0], value[1], value[2]), body
        if iei == IEI_CONCAT_16BIT and len(value) == 4:
            return PartInfo(int.from_bytes(value[:2], "big"), value[2], value[3]), body
    return None, body


def _sar_info(sm: ShortMessage) -> PartInfo | None:
    reference = read_tlv_int(sm.tlvs, Tag.SAR_MSG_REF_NUM)
    total = read_tlv_int(sm.tlvs, Tag.SAR_TOTAL_SEGMENTS)
    seq = read_tlv_int(sm.tlvs, Tag.SAR_SEGMENT_SEQNUM)
    if reference is None or total is None or seq is None:
        return None
    return PartInfo(reference, total, seq)


@dataclass(slots=True)
class _Group:
    started: float
    parts: dict[int, tuple[int, bytes]] = field(default_factory=dict)


class Reassembler:
    """Collects the parts of inbound concatenated messages by (source, destination, ref, total).

    A completed group stays until `done(completed)`: if handing the message on fails, the SMSC
    delivers the last part again and the message completes again. Groups older than `max_age`
    seconds are dropped.
    """

    def __init__(self, max_age: float = 600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._groups: dict[tuple[str, str, int, int], _Group] = {}
        self._max_age = max_age
        self._clock = clock

    def __len__(self) -> int:
        return len(self._groups)

    def accept(self, sm: ShortMessage) -> Completed | None:
        info, body = split_user_data(sm)
        if info is None or info.total <= 1:
            return Completed(sm.source_addr, sm.destination_addr, coding.decode(body, sm.data_coding))
        if not 1 <= info.seq <= info.total:
            raise PduError(f"part {info.seq} of {info.total}", status=Status.ESME_RINVMSGLEN)
        return self._add(sm, info, body)

    def done(self, completed: Completed) -> None:
        if completed.key is not None:
            self._groups.pop(completed.key, None)

    def _add(self, sm: ShortMessage, info: PartInfo, body: bytes) -> Completed | None:
        self._expire()
        key = (sm.source_addr, sm.destination_addr, info.reference, info.total)
        group = self._groups.setdefault(key, _Group(self._clock()))
        group.parts[info.seq] = (sm.data_coding, body)
        if len(group.parts) < info.total:
            return None
        parts = [group.parts[seq] for seq in range(1, info.total + 1)]
        return Completed(sm.source_addr, sm.destination_addr, join_text(parts), key)

    def _expire(self) -> None:
        oldest = self._clock() - self._max_age
        for key in [key for key, group in self._groups.items() if group.started < oldest]:
            del self._groups[key]


def join_text(parts: list[tuple[int, bytes]]) -> str:
    """Decode the parts together when they share a data_coding, so that a character split
    across two parts by the sender (an escape or a surrogate pair) still decodes."""
    codings = {data_coding for data_coding, _ in parts}
    if len(codings) == 1:
        return coding.decode(b"".join(body for _, body in parts), codings.pop())
    return "".join(coding.decode(body, data_coding) for data_coding, body in parts)
