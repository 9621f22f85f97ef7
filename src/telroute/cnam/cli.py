"""`telroute cnam approve|reject ID`: an operator's decision on a pending CNAM preset."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from telroute.bootstrap import Deps
from telroute.cli_common import AsJson, DatabaseUrl, DataDir, console, fail, run_with_deps, settings_for
from telroute.cnam import service
from telroute.errors import NotFound
from telroute.kit.db import Row

cnam = typer.Typer(
    no_args_is_help=True,
    help="Decide pending CNAM presets (in the sandbox they are also approved by themselves after "
    "TELROUTE_CNAM_APPROVAL_DELAY seconds, or serve --cnam-approval-delay).",
)
PresetId = Annotated[int, typer.Argument(min=1, help="The preset's id, as /v2/cnams shows it.")]


def register(app: typer.Typer) -> None:
    app.add_typer(cnam, name="cnam")


def _decide(preset_id: int, approve: bool, reason: str | None, settings_args: tuple[DataDir, DatabaseUrl]) -> Row:
    async def action(deps: Deps) -> Row:
        async with deps.db.transaction() as connection:
            return await service.decide(connection, preset_id, approve=approve, reason=reason, now=deps.clock())

    try:
        return run_with_deps(settings_for(*settings_args), action)
    except (NotFound, service.NotPending) as exc:
        raise fail(str(exc)) from exc


def _report(row: Row, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps({"id": row["id"], "value": row["value"], "status": row["status"]}))
    else:
        console.print(f"CNAM preset {row['id']} ({row['value']}): {row['status']}", highlight=False)


@cnam.command("approve")
def approve(
    preset_id: PresetId, data_dir: DataDir = None, database_url: DatabaseUrl = None, as_json: AsJson = False
) -> None:
    """Approve a pending preset: its account may then assign it to numbers."""
    _report(_decide(preset_id, True, None, (data_dir, database_url)), as_json)


@cnam.command("reject")
def reject(
    preset_id: PresetId,
    reason: Annotated[str, typer.Option(help="Shown to the account as rejection_reason.")] = "Rejected by the operator",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    as_json: AsJson = False,
) -> None:
    """Reject a pending preset; numbers showing it lose it."""
    _report(_decide(preset_id, False, reason, (data_dir, database_url)), as_json)
