"""Every connection is an open file. Under a connection cap above the process's open-file limit, accept()
fails before the cap is reached, so the process raises its soft limit as far as the hard limit allows."""

from __future__ import annotations

import resource

import structlog

log = structlog.get_logger("telroute.edge")

# Files besides client connections: the listening socket, the database pool, outbound HTTP, logs.
OTHER_FILES = 100


def soft_limit_to_set(soft: int, hard: int, needed: int) -> int | None:
    """The soft open-file limit to set so that `needed` files fit (or as near as `hard` allows); None to keep
    `soft` as it is."""
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return None
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    return target if target > soft else None


def make_room_for(max_connections: int) -> None:
    needed = max_connections + OTHER_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = soft_limit_to_set(soft, hard, needed)
    if target is not None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft != resource.RLIM_INFINITY and soft < needed:
        log.warning(
            "the open-file limit is below the connection cap: connections fail before the cap is reached",
            open_files_limit=soft,
            max_connections=max_connections,
            needed=needed,
        )
