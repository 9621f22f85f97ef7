"""`telroute inventory ...`: generate, import and count the number inventory.

- `generate` fills an EMPTY inventory with the seeded NANP inventory (the one `telroute serve` seeds in the
  sandbox profile). On a non-empty inventory it refuses, unless `--merge` is given: then only the generated
  numbers that are not in the database yet are added; numbers already there (available or owned) are left
  exactly as they are, so `--merge` can be run again safely.
- `import FILE.csv` is all or nothing: every bad row is reported with its line number, every number that
  exists already (in the inventory or owned by an account) is reported too, and then NOTHING is imported.
- `stats` counts the inventory.

All three open (and create and migrate, when needed) the data dir or `--database-url`, so they work on a
fresh data dir and next to a running server. On SQLite, `generate` and `import` hold the write lock while
they insert: a running server's writes wait for them (reads do not).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from telroute.bootstrap import Deps
from telroute.cli_common import AsJson, DatabaseUrl, DataDir, console, err_console, fail, run_with_deps, settings_for
from telroute.numbers import service
from telroute.numbers.inventory import (
    DEFAULT_PER_BLOCK,
    LINES_PER_BLOCK,
    InventoryRow,
    RowError,
    generate_inventory,
    parse_inventory_csv,
)
from telroute.numbers.model import normalize_number

inventory = typer.Typer(no_args_is_help=True, help="Manage the number inventory.")


def register(app: typer.Typer) -> None:
    app.add_typer(inventory, name="inventory")


CsvFile = Annotated[
    Path,
    typer.Argument(
        exists=True,
        dir_okay=False,
        readable=True,
        help="CSV with the header value,state,rate_center,number_type,setup_cost,monthly_cost",
    ),
]


@contextmanager
def _progress() -> Iterator[Progress]:
    """Progress bars on stderr (when it is a terminal), so that stdout carries only the result."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    shown = err_console.is_terminal
    with Progress(*columns, TimeElapsedColumn(), console=err_console, transient=True, disable=not shown) as progress:
        yield progress


def _advancer(progress: Progress, description: str, total: int | None) -> Callable[[int], None]:
    task = progress.add_task(description, total=total)
    return lambda done: progress.advance(task, done)


# --- generate ---------------------------------------------------------------------------------------------


@inventory.command("generate")
def generate(
    per_block: Annotated[
        int | None,
        typer.Option(
            "--per-block",
            min=1,
            max=LINES_PER_BLOCK,
            help=f"Numbers per NPA-NXX block (env TELROUTE_INVENTORY_PER_BLOCK; default {DEFAULT_PER_BLOCK}).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same numbers.")] = 0,
    merge: Annotated[
        bool, typer.Option("--merge", help="On a non-empty inventory, add only the numbers not there yet.")
    ] = False,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Add the seeded NANP inventory (refuses on a non-empty inventory unless --merge)."""
    settings = settings_for(data_dir, database_url)
    count = per_block or settings.inventory_per_block or DEFAULT_PER_BLOCK

    async def action(deps: Deps) -> tuple[int, int]:
        rows = generate_inventory(seed=seed, per_block=count)
        with _progress() as progress:
            advance = _advancer(progress, "generating", None)
            async with deps.db.transaction() as connection:
                if not merge and not await service.inventory_is_empty(connection):
                    raise fail("the inventory is not empty; use --merge to add only the numbers not there yet")
                if merge:
                    return await service.add_missing_inventory(connection, rows, advance)
                return await service.add_inventory(connection, rows, advance), 0

    added, skipped = run_with_deps(settings, action)
    if as_json:
        typer.echo(json.dumps({"added": added, "skipped": skipped, "seed": seed, "per_block": count}))
        return
    console.print(f"added {added:,} numbers (seed {seed}, {count} per block)", soft_wrap=True)
    if skipped:
        console.print(f"skipped {skipped:,} numbers that were there already")


# --- import -----------------------------------------------------------------------------------------------


def _lines(path: Path, advance: Callable[[int], None]) -> Iterator[str]:
    """The file's lines, newline kept (csv handles quoted line breaks), advancing by bytes read.

    Undecodable bytes become U+FFFD, which no column accepts: such a row is reported, never imported.
    """
    with path.open("rb") as handle:
        for raw in handle:
            advance(len(raw))
            yield raw.decode("utf-8", errors="replace")


def _parse(path: Path) -> tuple[list[InventoryRow], list[RowError]]:
    with _progress() as progress:
        return parse_inventory_csv(_lines(path, _advancer(progress, "reading", path.stat().st_size)))


def _line_numbers(path: Path, values: set[str]) -> dict[str, int]:
    """The line on which each of `values` appears (only needed to report conflicts)."""
    found: dict[str, int] = {}
    reader = csv.reader(_lines(path, lambda done: None))
    for cells in reader:
        try:
            value = normalize_number(cells[0].strip()) if cells else ""
        except ValueError:
            continue
        if value in values:
            found.setdefault(value, reader.line_num)
    return found


def _report(problems: Iterable[tuple[int, str]]) -> None:
    for line_number, message in sorted(problems):
        typer.echo(f"line {line_number}: {message}", err=True)


def _summary(rows: list[InventoryRow], stats: dict[str, int]) -> str:
    areacodes = len({row.npa for row in rows})
    exchanges = len({(row.npa, row.nxx) for row in rows})
    tollfree = sum(row.number_type == "tollfree" for row in rows)
    return (
        f"imported {len(rows):,} numbers ({areacodes:,} area codes, {exchanges:,} exchanges, "
        f"{tollfree:,} toll-free); the inventory now holds {stats['total']:,} numbers, "
        f"{stats['available']:,} available"
    )


@inventory.command("import")
def import_file(file: CsvFile, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Import numbers from a CSV file: all of them, or none when any row is bad or exists already."""
    rows, errors = _parse(file)
    if errors:
        _report((error.line_number, error.message) for error in errors)
        raise fail(f"{len(errors):,} bad row(s) in {file}; nothing was imported")

    async def action(deps: Deps) -> tuple[service.ImportResult, dict[str, int]]:
        with _progress() as progress:
            checked = _advancer(progress, "checking", len(rows))
            added = _advancer(progress, "importing", len(rows))
            async with deps.db.transaction() as connection:
                result = await service.import_inventory(connection, rows, checked=checked, added=added)
        return result, await service.inventory_stats(deps.db)

    result, stats = run_with_deps(settings_for(data_dir, database_url), action)
    if result.conflicts:
        lines = _line_numbers(file, {value for value, _ in result.conflicts})
        _report((lines.get(value, 0), f"{value} is {why}") for value, why in result.conflicts)
        raise fail(f"{len(result.conflicts):,} number(s) exist already; nothing was imported")
    console.print(_summary(rows, stats), soft_wrap=True)


# --- stats ------------------------------------------------------------------------------------------------


@inventory.command("stats")
def stats(as_json: AsJson = False, data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Count the inventory: total, available, owned numbers and area codes."""

    async def action(deps: Deps) -> dict[str, int]:
        return await service.inventory_stats(deps.db)

    figures = run_with_deps(settings_for(data_dir, database_url), action)
    if as_json:
        typer.echo(json.dumps(figures))
        return
    table = Table("total", "available", "owned", "area codes")
    table.add_row(*(f"{figures[key]:,}" for key in ("total", "available", "owned", "areacodes")))
    console.print(table)
