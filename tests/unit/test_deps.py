"""The composition root's `Deps` is complete when built: nothing is patched into it afterwards."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from telroute.bootstrap import Deps
from telroute.config import Settings
from telroute.kit.token_digest import TokenDigest


def test_deps_cannot_be_changed_after_it_is_built() -> None:
    deps = Deps(settings=Settings(), db=None, clock=lambda: 0, http=None)  # type: ignore[arg-type]
    changes: dict[str, Any] = {"settings": Settings(admin_token=TokenDigest.of("x")), "wakeup": None}
    for name, value in changes.items():
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(deps, name, value)


def test_each_deps_has_its_own_wakeup_and_failed_login_throttle() -> None:
    first = Deps(settings=Settings(), db=None, clock=lambda: 0, http=None)  # type: ignore[arg-type]
    second = Deps(settings=Settings(), db=None, clock=lambda: 0, http=None)  # type: ignore[arg-type]
    assert first.wakeup is not second.wakeup
    assert first.failed_logins is not second.failed_logins
