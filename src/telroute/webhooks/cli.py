"""`telroute webhooks ...`: callback attempts and dead letters.

These commands open the database directly, so they work beside a running server (SQLite in WAL
mode, or PostgreSQL): a replayed dead letter becomes a `deliver_webhook` job that the server's
worker picks up on its next poll.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from telroute.bootstrap import Deps
from telroute.cli_common import AsJson, DatabaseUrl, DataDir, console, err_console, fail, run_with_deps, settings_for
from telroute.kit.clock import format_timestamp
from telroute.kit.db import Row
from telroute.webhooks import service

webhooks = typer.Typer(no_args_is_help=True, help="Inspect callback deliveries and replay dead letters.")


def register(app: typer.Typer) -> None:
    app.add_typer(webhooks, name="webhooks")


_REPLAY_BATCH = 500


def _when(us: int | None) -> str | None:
    return None if us is None else format_timestamp(int(us))


def _attempt(row: Row) -> dict[str, Any]:
    latency = row["latency_ms"]
    return {
        "id": int(row["id"]),
        "when": _when(row["created_at_us"]),
        "access_key": row["access_key"],
        "event": row["event"],
        "message_id": row["message_public_id"],
        "url": row["url"],
        "attempt": int(row["attempt"]),
        "status_code": None if row["status_code"] is None else int(row["status_code"]),
        "latency_ms": None if latency is None else float(latency),
        "error": row["error"],
    }


def _dead_letter(row: Row) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "when": _when(row["created_at_us"]),
        "access_key": row["access_key"],
        "event": row["event"],
        "message_id": row["message_public_id"],
        "url": row["url"],
        "attempts": int(row["attempts"]),
        "last_error": row["last_error"],
        "replayed_at": _when(row["replayed_at_us"]),
        "payload": json.loads(row["payload"]),
    }


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


@webhooks.command("attempts")
def attempts(
    message: Annotated[str | None, typer.Option("--message", help="Only this message (mdr2-...).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest N attempts.")] = 50,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List callback delivery attempts, newest first: status, latency and error of each."""

    async def action(deps: Deps) -> list[dict[str, Any]]:
        rows = await service.attempts(deps.db, message=message, limit=limit)
        return [_attempt(row) for row in rows]

    found = run_with_deps(settings_for(data_dir, database_url), action)
    if as_json:
        typer.echo(json.dumps(found))
        return
    table = Table("when", "account", "event", "message", "url", "attempt", "status", "latency ms", "error")
    for item in found:
        latency = item["latency_ms"]
        table.add_row(
            item["when"],
            item["access_key"],
            item["event"],
            _cell(item["message_id"]),
            item["url"],
            str(item["attempt"]),
            _cell(item["status_code"]),
            "-" if latency is None else f"{latency:.1f}",
            _cell(item["error"]),
        )
    console.print(table)


@webhooks.command("dead-letters")
def dead_letters(
    include_replayed: Annotated[
        bool, typer.Option("--all", help="Include dead letters that were already replayed.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most N, oldest first.")] = 1000,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """List callbacks that failed every try (pending replay unless --all)."""

    async def action(deps: Deps) -> list[dict[str, Any]]:
        rows = await service.dead_letters(deps.db, pending_only=not include_replayed, limit=limit)
        return [_dead_letter(row) for row in rows]

    found = run_with_deps(settings_for(data_dir, database_url), action)
    if as_json:
        typer.echo(json.dumps(found))
        return
    table = Table("id", "when", "account", "event", "message", "url", "tries", "last error", "replayed")
    for item in found:
        table.add_row(
            str(item["id"]),
            item["when"],
            item["access_key"],
            item["event"],
            _cell(item["message_id"]),
            item["url"],
            str(item["attempts"]),
            _cell(item["last_error"]),
            _cell(item["replayed_at"]),
        )
    console.print(table)


async def _replay_ids(deps: Deps, ids: list[int]) -> tuple[list[int], list[int]]:
    replayed: list[int] = []
    missing: list[int] = []
    for dead_letter_id in ids:
        async with deps.db.transaction() as connection:
            done = await service.replay(connection, dead_letter_id, now=deps.clock())
        (replayed if done else missing).append(dead_letter_id)
    return replayed, missing


async def _replay_all(deps: Deps) -> list[int]:
    replayed: list[int] = []
    while True:
        pending = await service.dead_letters(deps.db, pending_only=True, limit=_REPLAY_BATCH)
        if not pending:
            return replayed
        done, _ = await _replay_ids(deps, [int(row["id"]) for row in pending])
        replayed.extend(done)


@webhooks.command("replay")
def replay(
    ids: Annotated[list[int] | None, typer.Argument(help="Dead letter ids (see `webhooks dead-letters`).")] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Replay every pending dead letter.")] = False,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Send dead letters again, each as a new callback job with a fresh set of tries."""
    if bool(ids) == replay_all:
        raise fail("give dead letter ids or --all (not both)")
    wanted = list(dict.fromkeys(ids or []))

    async def action(deps: Deps) -> tuple[list[int], list[int]]:
        if replay_all:
            return await _replay_all(deps), []
        return await _replay_ids(deps, wanted)

    replayed, missing = run_with_deps(settings_for(data_dir, database_url), action)
    if as_json:
        typer.echo(json.dumps({"replayed": replayed, "not_pending": missing}))
    else:
        console.print(f"replayed {len(replayed)} dead letter{'' if len(replayed) == 1 else 's'}")
    if missing:
        names = ", ".join(str(item) for item in missing)
        err_console.print(f"[red]error:[/red] no pending dead letter with id {names}")
        raise typer.Exit(1)
