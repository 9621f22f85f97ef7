from __future__ import annotations

import re

import pytest

from telroute.config import Prices
from telroute.messages import model
from telroute.messages.model import (
    Pricing,
    ReceiptOutcome,
    amount_display,
    is_message_id,
    new_message_id,
    outcome_of_state,
    parse_is_mms,
    price_inbound,
    price_outbound,
    submit_outcome,
)
from telroute.text.segments import Encoding

DEFAULT = Prices()


@pytest.mark.parametrize(
    ("nd", "display"),
    [
        (0, "$0.0000"),
        (4_000_000, "$0.0040"),
        (8_000_000, "$0.0080"),
        (19_500_000, "$0.0195"),
        (9_500_000, "$0.0095"),
        (49_999, "$0.0000"),
        (50_000, "$0.0001"),  # half a ten-thousandth rounds up
        (149_999, "$0.0001"),
        (150_000, "$0.0002"),
        (99_950_000, "$0.1000"),  # $0.09995 carries into the next digit
        (999_950_000, "$1.0000"),
        (1_000_000_000, "$1.0000"),
        (1_234_567_890_000, "$1234.5679"),
    ],
)
def test_amount_display_is_dollars_with_four_decimals_rounded_half_up(nd: int, display: str) -> None:
    assert amount_display(nd) == display


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("false", False),
        ("TRUE", True),
        (" False ", False),
        ("yes", None),
        ("1", None),
        ("", None),
        (1, None),
        (0, None),
        (None, None),
        (["true"], None),
    ],
)
def test_parse_is_mms_takes_booleans_and_the_two_strings(raw: object, parsed: bool | None) -> None:
    assert parse_is_mms(raw) is parsed


@pytest.mark.parametrize(
    ("state", "status", "code", "final"),
    [
        ("DELIVRD", "delivered", 1000, True),
        ("delivrd", "delivered", 1000, True),
        ("ACCEPTD", "message buffered", 1003, False),
        ("ENROUTE", "message buffered", 1003, False),
        ("UNDELIV", "undelivered", 1100, True),
        ("EXPIRED", "expired", 1101, True),
        ("REJECTD", "rejected", 1102, True),
        ("DELETED", "failed", 1103, True),
        ("UNKNOWN", "failed", 1104, True),
        ("GARBAGE", "failed", 1104, True),
        ("", "failed", 1104, True),
    ],
)
def test_outcome_of_state(state: str, status: str, code: int, final: bool) -> None:
    outcome = outcome_of_state(state)
    assert (outcome.status, outcome.code, outcome.final) == (status, code, final)


def test_outcome_descriptions_follow_the_contract() -> None:
    assert outcome_of_state("DELIVRD").description == "Message delivered to handset"
    assert outcome_of_state("ACCEPTD").description == "Message accepted by Carrier"


def test_final_statuses() -> None:
    assert {"delivered", "undelivered", "expired", "rejected", "failed"} == model.FINAL_STATUSES
    assert not ReceiptOutcome(model.SUBMITTED, 0, "").final
    assert not ReceiptOutcome(model.QUEUED, 0, "").final


def test_submit_outcome_keeps_the_code_and_appends_the_detail() -> None:
    rejected = submit_outcome("rejected", "destination barred")
    assert rejected == ReceiptOutcome("rejected", 1102, "Message rejected by carrier: destination barred")
    failed = submit_outcome("failed", "x" * 500)
    assert (failed.status, failed.code) == ("failed", 1105)
    assert len(failed.description) == 200
    assert failed.description.startswith("Message could not be submitted to carrier: xxx")


def test_a_new_message_id_is_mdr2_and_32_lowercase_hex() -> None:
    ids = {new_message_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"mdr2-[0-9a-f]{32}", message_id) for message_id in ids)
    assert all(is_message_id(message_id) for message_id in ids)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("mdr2-39cadeace66e11e7aff806cd7f24ba2d", True),
        ("mdr2-" + "0" * 32, True),
        ("mdr2-39CADEACE66E11E7AFF806CD7F24BA2D", False),
        ("mdr2-39cadeace66e11e7aff806cd7f24ba2", False),
        ("mdr2-39cadeace66e11e7aff806cd7f24ba2d0", False),
        ("mdr1-39cadeace66e11e7aff806cd7f24ba2d", False),
        ("mdr2-39cadeace66e11e7aff806cd7f24ba2g", False),
        ("39cadeace66e11e7aff806cd7f24ba2d", False),
        ("mdr2-39cadeace66e11e7aff806cd7f24ba2\u0661", False),
        ("", False),
    ],
)
def test_is_message_id(text: str, valid: bool) -> None:
    assert is_message_id(text) is valid


GSM_160 = "a" * 160
GSM_161 = "a" * 161
UCS2_70 = "\u00e9\u4e2d" * 35  # '中' forces UCS-2
UCS2_71 = UCS2_70 + "x"


@pytest.mark.parametrize(
    ("body", "encoding", "segments"),
    [
        ("hello", 0, 1),
        (GSM_160, 0, 1),
        (GSM_161, 0, 2),
        ("a" * 306, 0, 2),
        ("a" * 307, 0, 3),
        ("{" * 80, 0, 1),  # 160 septets
        ("{" * 81, 0, 2),
        (UCS2_70, 8, 1),
        (UCS2_71, 8, 2),
        ("\U0001f600", 8, 1),
    ],
)
def test_outbound_sms_is_priced_per_segment(body: str, encoding: int, segments: int) -> None:
    assert price_outbound(body, False, DEFAULT) == Pricing(Encoding(encoding), segments, 4_000_000 * segments)


def test_outbound_sms_price_follows_the_rate_table() -> None:
    prices = Prices(outbound_sms_per_segment=3_500_000)
    assert price_outbound(GSM_161, False, prices).amount_nd == 7_000_000


@pytest.mark.parametrize("body", [None, "", "pic", "a" * 400, "\u4e2d" * 100])
def test_outbound_mms_is_one_flat_price_whatever_its_text(body: str | None) -> None:
    pricing = price_outbound(body, True, DEFAULT)
    assert (pricing.segments, pricing.amount_nd) == (1, 19_500_000)
    assert pricing.encoding == (8 if body and "\u4e2d" in body else 0)
    assert price_outbound(body, True, Prices(outbound_mms=20_000_000)).amount_nd == 20_000_000


@pytest.mark.parametrize(("body", "segments"), [("Hello", 1), (GSM_161, 2), ("\u4e2d" * 71, 2)])
def test_inbound_sms_is_one_flat_price(body: str, segments: int) -> None:
    pricing = price_inbound(body, False, DEFAULT)
    assert pricing.amount_nd == 4_000_000
    assert pricing.segments == segments
    assert price_inbound(body, False, Prices(inbound_sms=1_000_000)).amount_nd == 1_000_000


def test_inbound_mms_price() -> None:
    assert price_inbound(None, True, DEFAULT).amount_nd == 9_500_000
    assert price_inbound("caption", True, Prices(inbound_mms=1)).amount_nd == 1


def test_default_rate_table() -> None:
    expected = Prices(
        outbound_sms_per_segment=4_000_000, inbound_sms=4_000_000, outbound_mms=19_500_000, inbound_mms=9_500_000
    )
    assert expected == DEFAULT


def test_a_report_ends_the_message_with_its_state_word_as_error_only_when_undelivered() -> None:
    assert model.report_error(model.reported_outcome("DELIVRD", None, None), "DELIVRD") is None
    assert model.report_error(model.reported_outcome("enroute", None, None), "enroute") is None  # not final
    assert model.report_error(model.reported_outcome("undeliv", None, None), "undeliv") == "UNDELIV"
    forced = model.reported_outcome("UNDELIV", 4301, "forced by a fault rule")
    assert (forced.status, forced.code, forced.description) == ("undelivered", 4301, "forced by a fault rule")
