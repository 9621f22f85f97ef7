"""`telroute inventory ...`: generate, import and count the number inventory."""

from __future__ import annotations

import typer

inventory = typer.Typer(no_args_is_help=True, help="Manage the number inventory.")
