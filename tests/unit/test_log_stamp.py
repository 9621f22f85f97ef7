"""kit/log_stamp.py: the same text as structlog's TimeStamper(fmt="iso", utc=True)."""

from __future__ import annotations

import datetime
import re

from hypothesis import example, given
from hypothesis import strategies as st

from telroute.kit.log_stamp import UtcStamper, iso_utc, second_text

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _structlog_text(now_us: int) -> str:
    """What structlog's stamper writes for that instant (`isoformat`, `+00:00` as `Z`)."""
    return (_EPOCH + datetime.timedelta(microseconds=now_us)).isoformat().replace("+00:00", "Z")


@given(st.integers(min_value=0, max_value=4_102_444_800_000_000))  # to 2100
@example(1_796_000_000_000_000)  # on the second: no fraction
@example(1_796_000_000_000_001)
def test_the_text_is_isoformat_s(now_us: int) -> None:
    assert iso_utc(now_us, second_text(now_us // 1_000_000)) == _structlog_text(now_us)


def test_the_stamper_adds_the_time_now() -> None:
    before = datetime.datetime.now(datetime.UTC)
    stamped = UtcStamper()(None, "info", {"event": "x"})
    after = datetime.datetime.now(datetime.UTC)
    text = stamped["timestamp"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z", text)
    assert before <= datetime.datetime.fromisoformat(text.replace("Z", "+00:00")) <= after
