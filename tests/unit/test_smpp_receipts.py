from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from telroute.carriers.smpp.pdu import ShortMessage, Tag, tlv_cstring, tlv_int
from telroute.carriers.smpp.receipts import (
    IdIndex,
    Receipt,
    ReceiptError,
    is_receipt,
    parse_receipt,
)
from telroute.messages.carrier_port import id_keys

SPEC_TEXT = (
    "id:0123456789 sub:001 dlvrd:001 submit date:2401021504 done date:2401021505 stat:DELIVRD err:000 text:Hello"
)


def receipt_sm(text: str = "", esm_class: int = 0x04, **tlvs: bytes) -> ShortMessage:
    return ShortMessage(
        short_message=text.encode("latin-1"),
        esm_class=esm_class,
        tlvs={Tag[name.upper()].value: value for name, value in tlvs.items()},
    )


def parse(sm: ShortMessage) -> Receipt:
    return parse_receipt(sm, sm.short_message.decode("latin-1"))


def test_text_receipt() -> None:
    assert parse(receipt_sm(SPEC_TEXT)) == Receipt("0123456789", "DELIVRD", 0)


@pytest.mark.parametrize(
    ("stat", "state"),
    [
        ("DELIVRD", "DELIVRD"),
        ("UNDELIV", "UNDELIV"),
        ("EXPIRED", "EXPIRED"),
        ("REJECTD", "REJECTD"),
        ("ACCEPTD", "ACCEPTD"),
        ("UNKNOWN", "UNKNOWN"),
        ("DELETED", "DELETED"),
        ("ENROUTE", "ENROUTE"),
        ("delivered", "DELIVRD"),
        ("Undeliverable", "UNDELIV"),
        ("GARBLED", "UNKNOWN"),
    ],
)
def test_stat_words(stat: str, state: str) -> None:
    assert parse(receipt_sm(f"id:7 stat:{stat} err:012")) == Receipt("7", state, 12)


def test_text_field_order_and_case_do_not_matter_and_text_can_hold_colons() -> None:
    text = "Stat:UNDELIV err:0A1 id:abc-1 text:id:wrong stat:DELIVRD"
    assert parse(receipt_sm(text)) == Receipt("abc-1", "UNDELIV", None)


def test_tlvs_come_first() -> None:
    sm = receipt_sm(
        "id:111 stat:DELIVRD err:000",
        receipted_message_id=tlv_cstring("0x2A"),
        message_state=tlv_int(5, 1),
        network_error_code=bytes((3, 0, 21)),
    )
    assert parse(sm) == Receipt("0x2A", "UNDELIV", 21)


def test_tlv_only_receipt() -> None:
    sm = receipt_sm(receipted_message_id=tlv_cstring("ff01"), message_state=tlv_int(2, 1))
    assert parse(sm) == Receipt("ff01", "DELIVRD", None)


@pytest.mark.parametrize(("state", "word"), [(1, "ENROUTE"), (3, "EXPIRED"), (8, "REJECTD"), (99, "UNKNOWN")])
def test_message_state_values(state: int, word: str) -> None:
    sm = receipt_sm(receipted_message_id=tlv_cstring("1"), message_state=tlv_int(state, 1))
    assert parse(sm).state == word


@pytest.mark.parametrize("text", ["", "stat:DELIVRD", "id:42", "hello there"])
def test_receipt_without_id_or_stat_is_an_error(text: str) -> None:
    with pytest.raises(ReceiptError):
        parse(receipt_sm(text))


@pytest.mark.parametrize(
    ("sm", "expected"),
    [
        (receipt_sm(esm_class=0x04), True),
        (receipt_sm(esm_class=0x44), True),
        (receipt_sm(esm_class=0x20), True),
        (receipt_sm(esm_class=0x00), False),
        (receipt_sm(esm_class=0x40), False),
        (receipt_sm(esm_class=0x08), False),
        (receipt_sm(esm_class=0, receipted_message_id=b"1\x00", message_state=b"\x02"), True),
    ],
)
def test_is_receipt(sm: ShortMessage, expected: bool) -> None:
    assert is_receipt(sm) is expected


@pytest.mark.parametrize(
    ("carrier_id", "keys"),
    [
        ("123", ("123", "291")),
        ("000123", ("123", "291")),
        ("1A2B", ("1a2b", "6699")),
        ("0001a2b", ("1a2b", "6699")),
        ("9", ("9",)),
        ("0", ("0",)),
        ("000", ("0",)),
        ("msg-42", ("msg-42",)),
        (" abc ", ("abc", "2748")),
    ],
)
def test_id_keys(carrier_id: str, keys: tuple[str, ...]) -> None:
    assert id_keys(carrier_id) == keys


def shares_key(a: str, b: str) -> bool:
    return bool(set(id_keys(a)) & set(id_keys(b)))


@given(st.integers(0, 2**64), st.integers(0, 6), st.integers(0, 6))
def test_hex_and_decimal_spellings_of_one_number_share_a_key(number: int, pad_hex: int, pad_dec: int) -> None:
    as_hex = "0" * pad_hex + format(number, "X")
    as_dec = "0" * pad_dec + str(number)
    assert shares_key(as_hex, as_dec)
    assert shares_key(as_hex.lower(), as_hex)
    assert shares_key(as_dec, str(number))


def test_index_resolves_a_decimal_receipt_to_the_hex_resp_id() -> None:
    index = IdIndex()
    index.remember("000F4240")
    index.remember("000F4241")
    assert index.resolve("1000000") == "000F4240"
    assert index.resolve("1000001") == "000F4241"
    assert index.resolve("f4241") == "000F4241"
    assert index.resolve("1000002") is None


def test_index_resolves_a_hex_receipt_to_the_decimal_resp_id() -> None:
    index = IdIndex()
    index.remember("000001000000")
    assert index.resolve("F4240") == "000001000000"
    assert index.resolve("1000000") == "000001000000"


def test_index_prefers_the_same_spelling_until_the_link_shows_otherwise() -> None:
    index = IdIndex()
    index.remember("1a")  # 0x1a: its receipt could say "26"
    index.remember("26")  # its receipt could say "26" too
    assert index.resolve("26") == "26"
    # this SMSC shows that it answers in hex and reports in decimal
    for submitted, reported in [("1b", "27"), ("1c", "28"), ("1d", "29")]:
        index.remember(submitted)
        assert index.resolve(reported) == submitted
    assert index.resolve("26") == "1a"
    assert index.resolve("38") == "26"


def test_index_is_bounded() -> None:
    index = IdIndex(capacity=3)
    for n in range(5):
        index.remember(f"m{n}")
    assert len(index) == 3
    assert index.resolve("m0") is None
    assert index.resolve("m4") == "m4"
