from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telroute.carriers.smpp.pdu import (
    HEADER,
    MAX_PDU_LENGTH,
    Bind,
    BindResp,
    Body,
    Command,
    Empty,
    MessageId,
    Pdu,
    PduError,
    ShortMessage,
    Status,
    Tag,
    body_type,
    decode,
    encode,
    read_length,
    read_tlv_cstring,
    read_tlv_int,
    status_name,
    tlv_cstring,
    tlv_int,
)


def frame(command_id: int, body: bytes = b"", status: int = 0, sequence: int = 1) -> bytes:
    return HEADER.pack(16 + len(body), command_id, status, sequence) + body


def text(limit: int) -> st.SearchStrategy[str]:
    return st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=limit - 1)


octet = st.integers(0, 255)
tlvs = st.dictionaries(st.integers(0, 0xFFFF), st.binary(max_size=300), max_size=4)
binds = st.builds(Bind, text(16), text(9), text(13), octet, octet, octet, text(41))
bind_resps = st.builds(BindResp, text(16), tlvs)
short_messages = st.builds(
    ShortMessage,
    source_addr=text(21),
    destination_addr=text(21),
    short_message=st.binary(max_size=254),
    service_type=text(6),
    source_addr_ton=octet,
    source_addr_npi=octet,
    dest_addr_ton=octet,
    dest_addr_npi=octet,
    esm_class=octet,
    protocol_id=octet,
    priority_flag=octet,
    schedule_delivery_time=text(17),
    validity_period=text(17),
    registered_delivery=octet,
    replace_if_present_flag=octet,
    data_coding=octet,
    sm_default_msg_id=octet,
    tlvs=tlvs,
)
message_ids = st.builds(MessageId, text(65))
BODIES: dict[type[Body], st.SearchStrategy[Body]] = {
    Bind: binds,
    BindResp: bind_resps,
    ShortMessage: short_messages,
    MessageId: message_ids,
    Empty: st.just(Empty()),
}


@st.composite
def pdus(draw: st.DrawFn) -> Pdu:
    command = draw(st.sampled_from(list(Command)))
    body = draw(BODIES[body_type(command)])
    return Pdu(command, draw(st.integers(1, 0x7FFFFFFF)), draw(st.integers(0, 0xFFFFFFFF)), body)


@given(pdus())
def test_every_pdu_survives_a_round_trip(pdu: Pdu) -> None:
    wire = encode(pdu)
    assert read_length(wire[:4]) == len(wire)
    assert decode(wire) == pdu


@given(st.binary(min_size=0, max_size=400), st.sampled_from(list(Command)), st.integers(0, 0xFFFFFFFF))
def test_any_body_decodes_or_raises_pdu_error(body: bytes, command: Command, status: int) -> None:
    try:
        decode(frame(command, body, status))
    except PduError as exc:
        assert exc.status in {Status.ESME_RINVCMDLEN, Status.ESME_RINVMSGLEN, Status.ESME_RINVOPTPARSTREAM, 0xC2}


def test_enquire_link_on_the_wire() -> None:
    assert encode(Pdu(Command.ENQUIRE_LINK, 7)).hex() == "00000010000000150000000000000007"


def test_bind_transceiver_on_the_wire() -> None:
    wire = encode(Pdu(Command.BIND_TRANSCEIVER, 1, body=Bind("sys", "pw", "t")))
    assert wire[16:] == b"sys\x00pw\x00t\x00\x34\x00\x00\x00"
    assert wire[:16] == HEADER.pack(len(wire), 0x09, 0, 1)


def test_submit_sm_on_the_wire() -> None:
    body = ShortMessage(
        source_addr="1206",
        destination_addr="1425",
        short_message=b"hi",
        source_addr_ton=1,
        source_addr_npi=1,
        registered_delivery=1,
        tlvs={Tag.MESSAGE_PAYLOAD: b""},
    )
    wire = encode(Pdu(Command.SUBMIT_SM, 2, body=body))
    expected = b"\x00\x01\x011206\x00\x00\x001425\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02hi" + b"\x04\x24\x00\x00"
    assert wire[16:] == expected


def test_error_response_without_body_decodes_to_an_empty_body() -> None:
    # what the npm smpp server sends for pdu.response({command_status: ...})
    pdu = decode(frame(Command.SUBMIT_SM_RESP, status=Status.ESME_RTHROTTLED, sequence=9))
    assert pdu == Pdu(Command.SUBMIT_SM_RESP, 9, Status.ESME_RTHROTTLED, MessageId(""))
    assert decode(frame(Command.BIND_TRANSCEIVER_RESP, status=0x0E)).body == BindResp()


def test_generic_nack_is_a_response() -> None:
    assert Command.GENERIC_NACK.is_response
    assert Command.SUBMIT_SM.response is Command.SUBMIT_SM_RESP
    assert not Command.DELIVER_SM.is_response


def test_trailing_octets_on_a_body_less_pdu_are_ignored() -> None:
    assert decode(frame(Command.ENQUIRE_LINK, b"\x00\x01")) == Pdu(Command.ENQUIRE_LINK, 1)


@pytest.mark.parametrize(
    ("wire", "status", "sequence"),
    [
        (b"\x00\x00\x00\x10\x00\x00", Status.ESME_RINVCMDLEN, 0),
        (HEADER.pack(20, 0x15, 0, 4), Status.ESME_RINVCMDLEN, 4),
        (frame(0x999, sequence=5), Status.ESME_RINVCMDID, 5),
        (frame(Command.DELIVER_SM, b"ABCD", sequence=6), Status.ESME_RINVCMDLEN, 6),
        (frame(Command.BIND_TRANSMITTER, b"a\x00b\x00c\x00"), Status.ESME_RINVCMDLEN, 1),
        (frame(Command.DELIVER_SM, b"\x00" * 16 + b"\x05ab"), Status.ESME_RINVMSGLEN, 1),
        (frame(Command.DELIVER_SM, b"\x00" * 17 + b"\x04\x24\x00"), Status.ESME_RINVOPTPARSTREAM, 1),
        (frame(Command.DELIVER_SM, b"\x00" * 17 + b"\x04\x24\x00\x09ab"), Status.ESME_RINVPARLEN, 1),
    ],
    ids=[
        "short",
        "length-mismatch",
        "unknown-command",
        "no-nul",
        "bind-truncated",
        "sm-length-overflow",
        "truncated-tlv",
        "tlv-overflow",
    ],
)
def test_invalid_pdus_raise_pdu_error_with_the_status_to_answer(wire: bytes, status: int, sequence: int) -> None:
    with pytest.raises(PduError) as raised:
        decode(wire)
    assert raised.value.status == status
    assert raised.value.sequence == sequence
    assert status_name(status).split()[0] in str(raised.value)


@pytest.mark.parametrize("length", [0, 15, MAX_PDU_LENGTH + 1, 0xFFFFFFFF])
def test_frame_length_out_of_range(length: int) -> None:
    with pytest.raises(PduError, match="command_length"):
        read_length(struct.pack(">I", length))


@pytest.mark.parametrize(
    "pdu",
    [
        Pdu(Command.SUBMIT_SM, 1, body=ShortMessage(source_addr="1" * 21)),
        Pdu(Command.SUBMIT_SM, 1, body=ShortMessage(short_message=b"x" * 255)),
        Pdu(Command.SUBMIT_SM, 1, body=ShortMessage(esm_class=256)),
        Pdu(Command.SUBMIT_SM, 1, body=ShortMessage(destination_addr="12\x0034")),
        Pdu(Command.BIND_TRANSCEIVER, 1, body=Bind("system", "longpassword")),
        Pdu(Command.SUBMIT_SM, 1, body=MessageId("x")),
        Pdu(Command.SUBMIT_SM, 1, body=ShortMessage(tlvs={0x10000: b""})),
    ],
    ids=["long-address", "long-message", "big-octet", "nul", "long-password", "wrong-body", "bad-tag"],
)
def test_unencodable_pdus_raise_pdu_error(pdu: Pdu) -> None:
    with pytest.raises(PduError):
        encode(pdu)


def test_typed_tlv_helpers() -> None:
    tlvs = {
        Tag.MESSAGE_STATE.value: tlv_int(2, 1),
        Tag.SAR_MSG_REF_NUM.value: tlv_int(513, 2),
        Tag.RECEIPTED_MESSAGE_ID.value: tlv_cstring("abc"),
    }
    decoded = decode(encode(Pdu(Command.DELIVER_SM, 1, body=ShortMessage(tlvs=tlvs))))
    assert isinstance(decoded.body, ShortMessage)
    assert read_tlv_int(decoded.body.tlvs, Tag.MESSAGE_STATE) == 2
    assert read_tlv_int(decoded.body.tlvs, Tag.SAR_MSG_REF_NUM) == 513
    assert read_tlv_cstring(decoded.body.tlvs, Tag.RECEIPTED_MESSAGE_ID) == "abc"
    assert read_tlv_int(decoded.body.tlvs, Tag.SAR_TOTAL_SEGMENTS) is None
    with pytest.raises(PduError, match="message_state"):
        read_tlv_int({Tag.MESSAGE_STATE.value: b"\x00\x00\x02"}, Tag.MESSAGE_STATE)


def test_status_names() -> None:
    assert status_name(0x58) == "ESME_RTHROTTLED (0x00000058)"
    assert status_name(0x400) == "command_status 0x00000400"
