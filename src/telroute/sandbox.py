"""The sandbox profile: on an empty database, seed the inventory and a demo account."""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

from telroute.accounts import repository as accounts_repository
from telroute.accounts import service as accounts_service
from telroute.accounts.model import secret_matches
from telroute.bootstrap import Deps
from telroute.config import Settings
from telroute.kit.db import lock_for_transaction
from telroute.kit.token_digest import TokenDigest
from telroute.numbers import service as numbers_service
from telroute.numbers.inventory import InventoryRow, generate_inventory

DEMO_FILE = "demo-account.json"
ADMIN_TOKEN_FILE = "admin-token"
SEED_LOCK = 72_503_411


def _inventory(deps: Deps) -> Iterator[InventoryRow]:
    per_block = deps.settings.inventory_per_block
    return generate_inventory(seed=0) if per_block is None else generate_inventory(seed=0, per_block=per_block)


async def seed_inventory(deps: Deps, announce: object = print) -> int:
    """Seed once, even when several sandbox processes start on one database together."""
    started = time.perf_counter()
    async with deps.db.transaction() as connection:
        await lock_for_transaction(connection, SEED_LOCK)
        if not await numbers_service.inventory_is_empty(connection):
            return 0
        count = await numbers_service.add_inventory(connection, _inventory(deps))
    if callable(announce):
        announce(f"seeded {count:,} numbers into the inventory in {time.perf_counter() - started:.1f} s")
    return count


async def _demo_keys(deps: Deps) -> dict[str, str]:
    path = deps.settings.data_dir / DEMO_FILE
    with (deps.settings.data_dir / ".demo-lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            stored: dict[str, str] = json.loads(path.read_text())
            if await _still_valid(deps, stored):
                return stored
        return await _create_demo(deps, path)


async def _still_valid(deps: Deps, stored: dict[str, str]) -> bool:
    """The kept keys work on this database (not when the database was replaced under the data dir)."""
    found = await accounts_repository.by_access_key(deps.db, stored.get("access_key", ""))
    return found is not None and secret_matches(stored.get("secret_key", ""), found[1])


async def _create_demo(deps: Deps, path: Path) -> dict[str, str]:
    async with deps.db.transaction() as connection:
        keys = await accounts_service.create(connection, "demo", now=deps.clock())
    demo = {"access_key": keys.access_key, "secret_key": keys.secret_key, "name": "demo"}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(demo, handle)
    return demo


async def prepare(deps: Deps) -> None:
    """Before a sandbox server listens: the inventory and the demo account (its admin token is already
    in the settings: `serve` builds its Deps with `with_admin_token` as the settings hook)."""
    if deps.settings.profile != "sandbox":
        return
    if await numbers_service.inventory_is_empty(deps.db):
        print("seeding the sandbox inventory (first start only)...", flush=True)
        await seed_inventory(deps)
    demo = await _demo_keys(deps)
    print(
        f"demo account: access key {demo['access_key']}  secret key {demo['secret_key']}\n"
        f"  (kept in {deps.settings.data_dir / DEMO_FILE}; try: curl -u {demo['access_key']}:{demo['secret_key']} "
        f"http://{deps.settings.host}:{deps.settings.port}/v2/numbers/available?starts_with=1206)\n"
        f"console: http://{deps.settings.host}:{deps.settings.port}/console (sign in with the demo keys above)",
        flush=True,
    )


def with_admin_token(settings: Settings) -> Settings:
    """The sandbox always has an admin token (for `POST /sandbox/inbound`), kept in the data dir."""
    if settings.admin_token or settings.profile != "sandbox":
        return settings
    path = settings.data_dir / ADMIN_TOKEN_FILE
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(24))
    return settings.with_overrides(admin_token=TokenDigest.of(path.read_text().strip()))
