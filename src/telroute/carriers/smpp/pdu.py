"""SMPP 3.4 PDU codec: the header, the bodies of the operations we speak, C-Octet strings, TLVs.

`encode(pdu)` gives the wire bytes; `decode(frame)` takes one whole PDU (its 4-octet length
included) and raises `PduError` carrying the command_status to answer with when the PDU is not
valid. Response bodies may be absent when command_status is not zero (SMPP 3.4, 4.4.2); they
decode to the empty body of their type.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

HEADER = struct.Struct(">IIII")
HEADER_LENGTH = HEADER.size
MAX_PDU_LENGTH = 64 * 1024
RESPONSE_BIT = 0x80000000
INTERFACE_VERSION = 0x34


class Command(IntEnum):
    GENERIC_NACK = 0x80000000
    BIND_RECEIVER = 0x00000001
    BIND_RECEIVER_RESP = 0x80000001
    BIND_TRANSMITTER = 0x00000002
    BIND_TRANSMITTER_RESP = 0x80000002
    SUBMIT_SM = 0x00000004
    SUBMIT_SM_RESP = 0x80000004
    DELIVER_SM = 0x00000005
    DELIVER_SM_RESP = 0x80000005
    UNBIND = 0x00000006
    UNBIND_RESP = 0x80000006
    BIND_TRANSCEIVER = 0x00000009
    BIND_TRANSCEIVER_RESP = 0x80000009
    ENQUIRE_LINK = 0x00000015
    ENQUIRE_LINK_RESP = 0x80000015

    @property
    def is_response(self) -> bool:
        return bool(self.value & RESPONSE_BIT)

    @property
    def response(self) -> Command:
        return Command(self.value | RESPONSE_BIT)


class Status(IntEnum):
    ESME_ROK = 0x00
    ESME_RINVMSGLEN = 0x01
    ESME_RINVCMDLEN = 0x02
    ESME_RINVCMDID = 0x03
    ESME_RINVBNDSTS = 0x04
    ESME_RALYBND = 0x05
    ESME_RSYSERR = 0x08
    ESME_RINVSRCADR = 0x0A
    ESME_RINVDSTADR = 0x0B
    ESME_RINVMSGID = 0x0C
    ESME_RBINDFAIL = 0x0D
    ESME_RINVPASWD = 0x0E
    ESME_RINVSYSID = 0x0F
    ESME_RMSGQFUL = 0x14
    ESME_RINVESMCLASS = 0x43
    ESME_RSUBMITFAIL = 0x45
    ESME_RTHROTTLED = 0x58
    ESME_RX_T_APPN = 0x64
    ESME_RX_P_APPN = 0x65
    ESME_RX_R_APPN = 0x66
    ESME_RINVOPTPARSTREAM = 0xC0
    ESME_ROPTPARNOTALLWD = 0xC1
    ESME_RINVPARLEN = 0xC2
    ESME_RMISSINGOPTPARAM = 0xC3
    ESME_RINVOPTPARAMVAL = 0xC4
    ESME_RDELIVERYFAILURE = 0xFE
    ESME_RUNKNOWNERR = 0xFF


class Tag(IntEnum):
    RECEIPTED_MESSAGE_ID = 0x001E
    SAR_MSG_REF_NUM = 0x020C
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    SC_INTERFACE_VERSION = 0x0210
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    MESSAGE_STATE = 0x0427


def status_name(code: int) -> str:
    try:
        return f"{Status(code).name} (0x{code:08X})"
    except ValueError:
        return f"command_status 0x{code:08X}"


def tag_name(tag: int) -> str:
    try:
        return Tag(tag).name.lower()
    except ValueError:
        return f"tlv_0x{tag:04X}"


class PduError(ValueError):
    """A PDU that cannot be encoded or decoded. `status` is the command_status to answer with."""

    def __init__(self, detail: str, *, status: int, command_id: int = 0, sequence: int = 0) -> None:
        super().__init__(f"{detail} ({status_name(status)})")
        self.detail = detail
        self.status = status
        self.command_id = command_id
        self.sequence = sequence


@dataclass(frozen=True, slots=True)
class Bind:
    system_id: str
    password: str
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


@dataclass(frozen=True, slots=True)
class BindResp:
    system_id: str = ""
    tlvs: dict[int, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ShortMessage:
    """The body of submit_sm and deliver_sm (identical in SMPP 3.4)."""

    source_addr: str = ""
    destination_addr: str = ""
    short_message: bytes = b""
    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    tlvs: dict[int, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MessageId:
    """The body of submit_sm_resp and deliver_sm_resp."""

    message_id: str = ""


@dataclass(frozen=True, slots=True)
class Empty:
    pass


Body = Bind | BindResp | ShortMessage | MessageId | Empty

_BINDS = {Command.BIND_RECEIVER, Command.BIND_TRANSMITTER, Command.BIND_TRANSCEIVER}
_SHORT_MESSAGES = {Command.SUBMIT_SM, Command.DELIVER_SM}
_BODY_TYPES: dict[Command, type[Body]] = {
    **{command: Bind for command in _BINDS},
    **{command.response: BindResp for command in _BINDS},
    **{command: ShortMessage for command in _SHORT_MESSAGES},
    **{command.response: MessageId for command in _SHORT_MESSAGES},
}

# Maximum lengths of C-Octet strings, the terminating NUL included (SMPP 3.4, section 4).
_MAX_CSTRING = {
    "system_id": 16,
    "password": 9,
    "system_type": 13,
    "address_range": 41,
    "service_type": 6,
    "source_addr": 21,
    "destination_addr": 21,
    "schedule_delivery_time": 17,
    "validity_period": 17,
    "message_id": 65,
}


@dataclass(frozen=True, slots=True)
class Pdu:
    command: Command
    sequence: int
    status: int = 0
    body: Body = field(default_factory=Empty)


def body_type(command: Command) -> type[Body]:
    return _BODY_TYPES.get(command, Empty)


# --- encoding ---------------------------------------------------------------------------------


def encode(pdu: Pdu) -> bytes:
    expected = body_type(pdu.command)
    if not isinstance(pdu.body, expected):
        raise PduError(
            f"{pdu.command.name} takes a {expected.__name__} body, not {type(pdu.body).__name__}",
            status=Status.ESME_RSYSERR,
        )
    body = _encode_body(pdu.body)
    header = HEADER.pack(HEADER_LENGTH + len(body), pdu.command, pdu.status, pdu.sequence)
    return header + body


def _encode_body(body: Body) -> bytes:
    match body:
        case Bind():
            return _encode_bind(body)
        case BindResp():
            return cstring(body.system_id, "system_id") + encode_tlvs(body.tlvs)
        case ShortMessage():
            return _encode_short_message(body)
        case MessageId():
            return cstring(body.message_id, "message_id")
        case _:
            return b""


def _encode_bind(body: Bind) -> bytes:
    return b"".join(
        (
            cstring(body.system_id, "system_id"),
            cstring(body.password, "password"),
            cstring(body.system_type, "system_type"),
            octets(body.interface_version, body.addr_ton, body.addr_npi),
            cstring(body.address_range, "address_range"),
        )
    )


def _encode_short_message(body: ShortMessage) -> bytes:
    if len(body.short_message) > 254:
        raise PduError("short_message is longer than 254 octets", status=Status.ESME_RINVMSGLEN)
    return b"".join(
        (
            cstring(body.service_type, "service_type"),
            octets(body.source_addr_ton, body.source_addr_npi),
            cstring(body.source_addr, "source_addr"),
            octets(body.dest_addr_ton, body.dest_addr_npi),
            cstring(body.destination_addr, "destination_addr"),
            octets(body.esm_class, body.protocol_id, body.priority_flag),
            cstring(body.schedule_delivery_time, "schedule_delivery_time"),
            cstring(body.validity_period, "validity_period"),
            octets(body.registered_delivery, body.replace_if_present_flag, body.data_coding),
            octets(body.sm_default_msg_id, len(body.short_message)),
            body.short_message,
            encode_tlvs(body.tlvs),
        )
    )


def cstring(value: str, name: str) -> bytes:
    raw = value.encode("latin-1")
    limit = _MAX_CSTRING.get(name, 256)
    if b"\x00" in raw or len(raw) >= limit:
        raise PduError(f"{name} must be under {limit} octets without NUL", status=Status.ESME_RINVPARLEN)
    return raw + b"\x00"


def octets(*values: int) -> bytes:
    try:
        return bytes(values)
    except ValueError as exc:
        raise PduError(f"integer fields must fit one octet: {values}", status=Status.ESME_RINVPARLEN) from exc


def encode_tlvs(tlvs: Mapping[int, bytes]) -> bytes:
    parts = []
    for tag, value in tlvs.items():
        if not 0 <= tag <= 0xFFFF or len(value) > 0xFFFF:
            raise PduError(f"{tag_name(tag)} does not fit a TLV", status=Status.ESME_RINVPARLEN)
        parts.append(struct.pack(">HH", tag, len(value)) + value)
    return b"".join(parts)


def tlv_int(value: int, size: int) -> bytes:
    return value.to_bytes(size, "big")


def tlv_cstring(value: str) -> bytes:
    return value.encode("latin-1") + b"\x00"


# --- decoding ---------------------------------------------------------------------------------


def read_length(prefix: bytes) -> int:
    """The command_length of the PDU whose first four octets are `prefix`."""
    (length,) = struct.unpack(">I", prefix)
    if not HEADER_LENGTH <= length <= MAX_PDU_LENGTH:
        raise PduError(f"command_length {length} is out of range", status=Status.ESME_RINVCMDLEN)
    return int(length)


def decode(frame: bytes) -> Pdu:
    if len(frame) < HEADER_LENGTH:
        raise PduError(f"a PDU needs {HEADER_LENGTH} octets, got {len(frame)}", status=Status.ESME_RINVCMDLEN)
    length, command_id, status, sequence = HEADER.unpack_from(frame)
    if length != len(frame):
        raise PduError(
            f"command_length {length} but {len(frame)} octets",
            status=Status.ESME_RINVCMDLEN,
            command_id=command_id,
            sequence=sequence,
        )
    command = _command(command_id, sequence)
    try:
        body = _decode_body(command, status, frame[HEADER_LENGTH:])
    except PduError as exc:
        raise PduError(
            f"{command.name}: {exc.detail}", status=exc.status, command_id=command_id, sequence=sequence
        ) from None
    return Pdu(command, sequence, status, body)


def _command(command_id: int, sequence: int) -> Command:
    try:
        return Command(command_id)
    except ValueError:
        raise PduError(
            f"unknown command_id 0x{command_id:08X}",
            status=Status.ESME_RINVCMDID,
            command_id=command_id,
            sequence=sequence,
        ) from None


def _decode_body(command: Command, status: int, raw: bytes) -> Body:
    kind = body_type(command)
    if kind is Empty:
        return Empty()  # trailing octets on a body-less PDU are ignored, not worth a nack
    if not raw and command.is_response:
        return BindResp() if kind is BindResp else MessageId()
    reader = Reader(raw)
    if kind is Bind:
        return _decode_bind(reader)
    if kind is BindResp:
        return BindResp(reader.cstring("system_id"), reader.tlvs())
    if kind is ShortMessage:
        return _decode_short_message(reader)
    return MessageId(reader.cstring("message_id"))


def _decode_bind(reader: Reader) -> Bind:
    return Bind(
        system_id=reader.cstring("system_id"),
        password=reader.cstring("password"),
        system_type=reader.cstring("system_type"),
        interface_version=reader.u8("interface_version"),
        addr_ton=reader.u8("addr_ton"),
        addr_npi=reader.u8("addr_npi"),
        address_range=reader.cstring("address_range"),
    )


def _decode_short_message(reader: Reader) -> ShortMessage:
    # keyword arguments are evaluated in the order written: the order of the fields on the wire
    return ShortMessage(
        service_type=reader.cstring("service_type"),
        source_addr_ton=reader.u8("source_addr_ton"),
        source_addr_npi=reader.u8("source_addr_npi"),
        source_addr=reader.cstring("source_addr"),
        dest_addr_ton=reader.u8("dest_addr_ton"),
        dest_addr_npi=reader.u8("dest_addr_npi"),
        destination_addr=reader.cstring("destination_addr"),
        esm_class=reader.u8("esm_class"),
        protocol_id=reader.u8("protocol_id"),
        priority_flag=reader.u8("priority_flag"),
        schedule_delivery_time=reader.cstring("schedule_delivery_time"),
        validity_period=reader.cstring("validity_period"),
        registered_delivery=reader.u8("registered_delivery"),
        replace_if_present_flag=reader.u8("replace_if_present_flag"),
        data_coding=reader.u8("data_coding"),
        sm_default_msg_id=reader.u8("sm_default_msg_id"),
        short_message=reader.octet_string("short_message"),
        tlvs=reader.tlvs(),
    )


class Reader:
    """Reads the fields of a PDU body in order, raising PduError when the body runs short."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.offset = 0

    def u8(self, name: str) -> int:
        if self.offset >= len(self.raw):
            raise PduError(f"body ends before {name}", status=Status.ESME_RINVCMDLEN)
        self.offset += 1
        return self.raw[self.offset - 1]

    def cstring(self, name: str) -> str:
        end = self.raw.find(b"\x00", self.offset)
        if end < 0:
            raise PduError(f"{name} has no terminating NUL", status=Status.ESME_RINVCMDLEN)
        value = self.raw[self.offset : end].decode("latin-1")
        self.offset = end + 1
        return value

    def octet_string(self, name: str) -> bytes:
        length = self.u8(f"{name} length")
        if self.offset + length > len(self.raw):
            raise PduError(f"{name} runs past the end of the PDU", status=Status.ESME_RINVMSGLEN)
        self.offset += length
        return self.raw[self.offset - length : self.offset]

    def tlvs(self) -> dict[int, bytes]:
        tlvs: dict[int, bytes] = {}
        while self.offset < len(self.raw):
            if self.offset + 4 > len(self.raw):
                raise PduError("truncated TLV header", status=Status.ESME_RINVOPTPARSTREAM)
            tag, length = struct.unpack_from(">HH", self.raw, self.offset)
            start = self.offset + 4
            if start + length > len(self.raw):
                raise PduError(f"{tag_name(tag)} runs past the end of the PDU", status=Status.ESME_RINVPARLEN)
            tlvs[tag] = self.raw[start : start + length]
            self.offset = start + length
        return tlvs


def read_tlv_int(tlvs: Mapping[int, bytes], tag: int) -> int | None:
    value = tlvs.get(tag)
    if value is None:
        return None
    if len(value) not in (1, 2, 4):
        raise PduError(f"{tag_name(tag)} has length {len(value)}", status=Status.ESME_RINVPARLEN)
    return int.from_bytes(value, "big")


def read_tlv_cstring(tlvs: Mapping[int, bytes], tag: int) -> str | None:
    value = tlvs.get(tag)
    if value is None:
        return None
    return value.split(b"\x00", 1)[0].decode("latin-1")
