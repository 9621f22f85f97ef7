"""The one rule between a deployment and its processes: a process may be stricter, never looser."""

from __future__ import annotations

import pytest

from telroute.deployment.model import (
    LooserThanDeployment,
    Policy,
    default_policy,
    process_policy,
    upgraded,
    with_network,
    with_private_targets,
    without_network,
)

SANDBOX = default_policy("sandbox")
PRODUCTION = default_policy("production")


def test_a_new_sandbox_reaches_private_addresses_and_production_does_not() -> None:
    assert Policy("sandbox", private_targets=True) == SANDBOX
    assert Policy("production", private_targets=False) == PRODUCTION


def test_a_process_asking_nothing_runs_as_stored() -> None:
    assert process_policy(SANDBOX, None, None) == SANDBOX
    assert process_policy(PRODUCTION, None, None) == PRODUCTION


@pytest.mark.parametrize(
    ("profile", "private", "why"),
    [
        ("sandbox", None, "cannot run it as sandbox"),
        (None, True, "refuses private targets"),
        ("production", True, "refuses private targets"),
        ("sandbox", False, "cannot run it as sandbox"),
    ],
)
def test_a_process_cannot_be_looser_than_a_production_deployment(
    profile: str | None, private: bool | None, why: str
) -> None:
    with pytest.raises(LooserThanDeployment, match=why):
        process_policy(PRODUCTION, profile, private)  # type: ignore[arg-type]


def test_a_process_may_be_stricter_than_a_sandbox() -> None:
    assert process_policy(SANDBOX, "production", None) == Policy("production", private_targets=False)
    assert process_policy(SANDBOX, None, False) == Policy("sandbox", private_targets=False)
    assert process_policy(SANDBOX, "sandbox", True) == SANDBOX


def test_allowed_networks_stay_with_a_stricter_process() -> None:
    stored = Policy("production", False, ("10.20.0.0/16",))
    assert process_policy(stored, "production", False) == stored


def test_a_sandbox_can_become_production_but_never_the_reverse() -> None:
    assert upgraded(SANDBOX, "production") == PRODUCTION
    assert upgraded(PRODUCTION, "production") == PRODUCTION
    assert upgraded(SANDBOX, "sandbox") == SANDBOX
    with pytest.raises(LooserThanDeployment):
        upgraded(PRODUCTION, "sandbox")


def test_production_allows_networks_one_by_one_never_every_private_address() -> None:
    with pytest.raises(LooserThanDeployment, match="allow-network"):
        with_private_targets(PRODUCTION, True)
    assert with_private_targets(PRODUCTION, False) == PRODUCTION
    assert with_private_targets(SANDBOX, False) == Policy("sandbox", False)
    opened = with_network(with_network(PRODUCTION, "10.20.0.0/16"), "fd00:1::/64")
    assert opened.allowed_networks == ("10.20.0.0/16", "fd00:1::/64")
    assert with_network(opened, "10.20.0.0/16") == opened  # listed once
    assert without_network(opened, "10.20.0.0/16").allowed_networks == ("fd00:1::/64",)
    with pytest.raises(ValueError):
        with_network(PRODUCTION, "10.20.0.1/16")
