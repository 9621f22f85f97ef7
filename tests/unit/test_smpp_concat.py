from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telroute.carriers.smpp import coding
from telroute.carriers.smpp.concat import (
    ESM_UDHI,
    Completed,
    OutboundPart,
    Reassembler,
    build_parts,
    udh,
)
from telroute.carriers.smpp.pdu import PduError, ShortMessage, Tag, tlv_int
from telroute.text.segments import GSM_BASIC, GSM_EXTENSION, split_segments

EMOJI = "\U0001f600"


def parts(text: str, link_coding: int = 0, long_messages: str = "udh", reference: int = 9) -> list[OutboundPart]:
    return build_parts(text, link_coding=link_coding, long_messages=long_messages, reference=reference)


def as_delivered(part: OutboundPart, source: str = "12065550001") -> ShortMessage:
    return ShortMessage(
        source_addr=source,
        destination_addr="12065550100",
        short_message=part.short_message,
        esm_class=part.esm_class,
        data_coding=part.data_coding,
        tlvs=part.tlvs,
    )


@pytest.mark.parametrize(
    ("text", "link_coding", "data_coding"),
    [
        ("plain", 0, 0),
        ("euro €", 0, 0),
        ("café ç", 0, 8),
        ("café ç", 3, 3),
        ("Привет", 3, 8),
        ("plain", 8, 8),
    ],
)
def test_data_coding_per_link(text: str, link_coding: int, data_coding: int) -> None:
    assert coding.choose(text, link_coding) == data_coding
    assert coding.decode(coding.encode(text, data_coding), data_coding) == text


def test_unknown_link_coding_is_refused() -> None:
    with pytest.raises(ValueError, match="data_coding 4"):
        coding.choose("x", 4)


def test_gsm_is_sent_unpacked_one_septet_per_octet() -> None:
    assert coding.encode("@A€", 0) == b"\x00\x41\x1b\x65"


@pytest.mark.parametrize(
    ("raw", "data_coding", "text"),
    [
        (b"hi \x1b\x3c", 0, "hi ["),
        (b"hi", 0xF1, "hi"),
        (b"ascii", 1, "ascii"),
        (b"\xe9t\xe9", 3, "été"),
        (b"\x00h\xd8\x3d\xde\x00", 8, "h" + EMOJI),
        (b"\xff", 1, "\ufffd"),
    ],
)
def test_decode_inbound(raw: bytes, data_coding: int, text: str) -> None:
    assert coding.decode(raw, data_coding) == text


def test_short_text_is_one_part_without_udh() -> None:
    assert parts("hello") == [OutboundPart(b"hello", 0)]


def test_long_gsm_text_gets_8bit_reference_udh() -> None:
    text = "a" * 152 + "€" + "b" * 10
    got = parts(text, reference=0x1AB)
    assert [p.short_message[:6] for p in got] == [udh(0xAB, 2, 1), udh(0xAB, 2, 2)]
    assert got[0].short_message[6:] == b"a" * 152  # the escape pair moved to part 2 whole
    assert got[1].short_message[6:8] == b"\x1b\x65"
    assert all((p.esm_class, p.data_coding) == (ESM_UDHI, 0) for p in got)


def test_long_ucs2_parts_fit_134_octets_and_keep_surrogate_pairs() -> None:
    got = parts("ж" * 66 + EMOJI + "ж" * 100)
    assert [len(p.short_message) - 6 for p in got] == [132, 134, 70]
    assert all(p.data_coding == 8 for p in got)


def test_long_latin1_parts_fit_134_octets() -> None:
    got = parts("é" * 141, link_coding=3)
    assert [len(p.short_message) for p in got] == [6 + 134, 6 + 7]
    assert parts("é" * 140, link_coding=3) == [OutboundPart(b"\xe9" * 140, 3)]


def test_forced_ucs2_uses_ucs2_part_sizes_for_gsm_text() -> None:
    assert len(parts("a" * 71, link_coding=8)) == 2
    assert len(parts("a" * 71, link_coding=0)) == 1


def test_payload_mode_sends_one_part_with_message_payload() -> None:
    text = "x" * 400
    assert parts(text, long_messages="payload") == [
        OutboundPart(b"", 0, 0, {Tag.MESSAGE_PAYLOAD.value: text.encode("ascii")})
    ]
    assert parts("short", long_messages="payload") == [OutboundPart(b"short", 0)]


def test_unknown_long_messages_setting() -> None:
    with pytest.raises(ValueError, match="long_messages"):
        parts("x" * 200, long_messages="sar")


gsm_text = st.text(alphabet=sorted(GSM_BASIC | GSM_EXTENSION), max_size=600)
any_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=400)


@given(st.one_of(gsm_text, any_text), st.sampled_from([0, 3, 8]), st.sampled_from(["udh", "payload"]))
def test_parts_reassemble_to_the_text(text: str, link_coding: int, long_messages: str) -> None:
    built = parts(text, link_coding, long_messages)
    assert all(len(p.short_message) <= 140 + (20 if p.data_coding == 0 else 0) for p in built)
    reassembler = Reassembler()
    outcomes = [reassembler.accept(as_delivered(p)) for p in reversed(built)]
    completed = outcomes[-1]
    assert completed is not None and completed.text == text
    assert all(outcome is None for outcome in outcomes[:-1])


@given(gsm_text)
def test_gsm_part_count_matches_the_segment_counter(text: str) -> None:
    assert len(parts(text)) == len(split_segments(text)[1])


def sar_part(seq: int, total: int, body: bytes, reference: int = 300, data_coding: int = 0) -> ShortMessage:
    tlvs = {
        Tag.SAR_MSG_REF_NUM.value: tlv_int(reference, 2),
        Tag.SAR_TOTAL_SEGMENTS.value: tlv_int(total, 1),
        Tag.SAR_SEGMENT_SEQNUM.value: tlv_int(seq, 1),
    }
    return ShortMessage(source_addr="1", destination_addr="2", short_message=body, data_coding=data_coding, tlvs=tlvs)


def udh_part(header: bytes, body: bytes, source: str = "1", data_coding: int = 0) -> ShortMessage:
    return ShortMessage(
        source_addr=source,
        destination_addr="2",
        short_message=header + body,
        esm_class=ESM_UDHI,
        data_coding=data_coding,
    )


def test_sar_parts_are_reassembled() -> None:
    reassembler = Reassembler()
    assert reassembler.accept(sar_part(2, 2, b"world")) is None
    completed = reassembler.accept(sar_part(1, 2, b"hello "))
    assert completed == Completed("1", "2", "hello world", ("1", "2", 300, 2))


def test_16bit_reference_udh_and_other_information_elements() -> None:
    reassembler = Reassembler()
    first = bytes((9, 0x24, 1, 0, 0x08, 4, 0x12, 0x34, 2, 1))  # a national-language IE, then concat
    second = bytes((6, 0x08, 4, 0x12, 0x34, 2, 2))
    assert reassembler.accept(udh_part(first, b"ab")) is None
    completed = reassembler.accept(udh_part(second, b"cd"))
    assert completed is not None and completed.text == "abcd"


def test_udh_without_concatenation_is_a_single_message() -> None:
    completed = Reassembler().accept(udh_part(bytes((3, 0x24, 1, 0)), b"hi"))
    assert completed == Completed("1", "2", "hi")


def test_a_surrogate_pair_split_by_the_sender_still_decodes() -> None:
    reassembler = Reassembler()
    encoded = ("a" + EMOJI).encode("utf-16-be")
    reassembler.accept(udh_part(udh(5, 2, 1), encoded[:4], data_coding=8))
    completed = reassembler.accept(udh_part(udh(5, 2, 2), encoded[4:], data_coding=8))
    assert completed is not None and completed.text == "a" + EMOJI


def test_groups_are_kept_apart_by_source_and_reference() -> None:
    reassembler = Reassembler()
    assert reassembler.accept(udh_part(udh(5, 2, 1), b"A1", source="a")) is None
    assert reassembler.accept(udh_part(udh(5, 2, 1), b"B1", source="b")) is None
    assert reassembler.accept(udh_part(udh(6, 2, 2), b"A?", source="a")) is None
    completed = reassembler.accept(udh_part(udh(5, 2, 2), b"A2", source="a"))
    assert completed is not None and completed.text == "A1A2"
    assert len(reassembler) == 3


def test_a_completed_message_stays_until_done_so_a_redelivered_last_part_completes_again() -> None:
    reassembler = Reassembler()
    reassembler.accept(udh_part(udh(5, 2, 1), b"x"))
    first = reassembler.accept(udh_part(udh(5, 2, 2), b"y"))
    again = reassembler.accept(udh_part(udh(5, 2, 2), b"y"))
    assert first == again and first is not None
    reassembler.done(first)
    assert len(reassembler) == 0
    assert reassembler.accept(udh_part(udh(5, 2, 2), b"y")) is None


def test_stale_groups_expire() -> None:
    now = [0.0]
    reassembler = Reassembler(max_age=60, clock=lambda: now[0])
    reassembler.accept(udh_part(udh(5, 2, 1), b"x"))
    now[0] = 61.0
    assert reassembler.accept(udh_part(udh(5, 2, 2), b"y")) is None  # part 1 was dropped
    assert len(reassembler) == 1


@pytest.mark.parametrize(
    "sm",
    [
        udh_part(b"", b""),
        udh_part(bytes((9, 0, 3, 1)), b""),
        udh_part(udh(5, 2, 3), b"x"),
        udh_part(udh(5, 2, 0), b"x"),
    ],
    ids=["empty", "udh-overflow", "seq-beyond-total", "seq-zero"],
)
def test_malformed_parts_raise_pdu_error(sm: ShortMessage) -> None:
    with pytest.raises(PduError):
        Reassembler().accept(sm)


def test_message_payload_is_used_when_present() -> None:
    sm = ShortMessage(source_addr="1", destination_addr="2", tlvs={Tag.MESSAGE_PAYLOAD.value: b"long text"})
    assert Reassembler().accept(sm) == Completed("1", "2", "long text")
