"""The deployment's policy and the one rule between it and a process: a process may be stricter
than its deployment, never looser."""

from __future__ import annotations

from dataclasses import dataclass, replace

from telroute.config import Profile
from telroute.kit.addresses import parse_network


class DeploymentRefused(Exception):
    """A process or command cannot go on under the deployment's stored policy."""


class LooserThanDeployment(DeploymentRefused):
    """A process, flag or command asked for less than the deployment allows."""


class NotInitialized(DeploymentRefused):
    """No profile is stored yet and this process may not choose one."""


@dataclass(frozen=True, slots=True)
class Policy:
    profile: Profile
    private_targets: bool  # whether callbacks and media may reach any private address
    allowed_networks: tuple[str, ...] = ()  # private networks reachable all the same (CIDRs)

    def describe(self) -> str:
        targets = "allowed" if self.private_targets else "refused"
        networks = ",".join(self.allowed_networks) or "none"
        return f"profile={self.profile} private_targets={targets} allowed_networks={networks}"


def difference(before: Policy, after: Policy) -> str:
    """One line saying what a change changed, e.g. `profile sandbox -> production; allowed 10.1.0.0/16`."""
    parts = []
    if before.profile != after.profile:
        parts.append(f"profile {before.profile} -> {after.profile}")
    if before.private_targets != after.private_targets:
        parts.append(f"private targets {'allowed' if after.private_targets else 'refused'}")
    parts += [f"allowed {network}" for network in after.allowed_networks if network not in before.allowed_networks]
    parts += [f"removed {network}" for network in before.allowed_networks if network not in after.allowed_networks]
    return "; ".join(parts)


def default_policy(profile: Profile) -> Policy:
    """A new deployment: the sandbox lets callbacks reach an app on localhost, production does not."""
    return Policy(profile, private_targets=profile == "sandbox")


def process_policy(stored: Policy, profile: Profile | None, private_targets: bool | None) -> Policy:
    """What one process runs with, given what it was asked for (None: as stored)."""
    if profile == "sandbox" and stored.profile == "production":
        raise LooserThanDeployment("this deployment's profile is production; a process cannot run it as sandbox")
    if private_targets and not stored.private_targets:
        raise LooserThanDeployment(
            "this deployment refuses private targets; allow a network with `telroute policy allow-network CIDR`"
        )
    effective = replace(stored, profile=profile or stored.profile)
    if private_targets is False or (effective.profile == "production" and stored.profile == "sandbox"):
        effective = replace(effective, private_targets=False)
    return effective


def upgraded(stored: Policy, profile: Profile) -> Policy:
    """`telroute init --profile` on an existing deployment: the same profile, or production from sandbox."""
    if profile == stored.profile:
        return stored
    if profile == "sandbox":
        raise LooserThanDeployment("this deployment's profile is production; it cannot become a sandbox")
    return replace(stored, profile="production", private_targets=False)


def with_private_targets(stored: Policy, allowed: bool) -> Policy:
    if allowed and stored.profile == "production":
        raise LooserThanDeployment(
            "a production deployment never allows every private address; allow one network with "
            "`telroute policy allow-network CIDR`"
        )
    return replace(stored, private_targets=allowed)


def with_network(stored: Policy, cidr: str) -> Policy:
    """Raises ValueError for a malformed CIDR."""
    network = str(parse_network(cidr))
    if network in stored.allowed_networks:
        return stored
    return replace(stored, allowed_networks=(*stored.allowed_networks, network))


def without_network(stored: Policy, cidr: str) -> Policy:
    network = str(parse_network(cidr))
    return replace(stored, allowed_networks=tuple(n for n in stored.allowed_networks if n != network))
