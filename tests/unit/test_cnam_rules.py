"""CNAM presets: the caller-name rules, and when a pending preset counts as approved."""

from __future__ import annotations

import pytest

from telroute.cnam import model, schemas
from telroute.config import settings_from_env

SECOND = 1_000_000
CREATED = 1_527_811_792_513_092  # 2018-06-01 00:09:52.513092 UTC


@pytest.mark.parametrize("value", ["FR H5K8", "TEST, MARIA", "O'BRIEN & SONS", "A", "x" * 15, "Bob-1."])
def test_names_that_follow_the_rules(value: str) -> None:
    assert model.rule_broken(value) is None


@pytest.mark.parametrize(
    ("value", "why"),
    [("x" * 16, "at most 15"), ("12065551212", "one letter"), ("Bob!", "only letters"), ("Émile", "only letters"),
     ("  ", "blank"), ("1-2-3", "one letter")],
)  # fmt: skip
def test_names_against_the_rules(value: str, why: str) -> None:
    broken = model.rule_broken(value)
    assert broken is not None and why in broken


def _row(status: str, decided: int | None = None) -> dict[str, object]:
    return {"status": status, "created_at_us": CREATED, "decided_at_us": decided}


def test_the_sandbox_approves_a_pending_preset_once_the_delay_has_passed() -> None:
    sandbox = model.approval_of("sandbox", 30)
    assert sandbox.state(_row("pending"), CREATED + 30 * SECOND - 1) == (False, None)
    assert sandbox.state(_row("pending"), CREATED + 30 * SECOND) == (True, CREATED + 30 * SECOND)
    assert sandbox.state(_row("rejected"), CREATED + 3600 * SECOND) == (False, None)


def test_production_approves_only_by_decision() -> None:
    production = model.approval_of("production", 30)
    assert production.state(_row("pending"), CREATED + 10**12) == (False, None)
    assert production.state(_row("approved", CREATED + 5), CREATED + 6) == (True, CREATED + 5)
    assert production.cutoff(CREATED) == -1


def test_times_are_spelled_as_flowroute_does() -> None:
    assert schemas.record_time(CREATED) == "2018-06-01 00:09:52.513092+00:00"
    assert schemas.record_time(CREATED - 513_092) == "2018-06-01 00:09:52.000000+00:00"
    assert schemas.http_date(CREATED + 480 * SECOND) == "Fri, 01 Jun 2018 00:17:52 GMT"


def test_the_approval_delay_comes_from_the_environment() -> None:
    assert settings_from_env({}).cnam_approval_delay == 30.0
    assert settings_from_env({"TELROUTE_CNAM_APPROVAL_DELAY": "0"}).cnam_approval_delay == 0.0
    with pytest.raises(ValueError, match="TELROUTE_CNAM_APPROVAL_DELAY"):
        settings_from_env({"TELROUTE_CNAM_APPROVAL_DELAY": "-1"})
