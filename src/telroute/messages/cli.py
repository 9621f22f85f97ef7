"""`telroute simulate ...`: inject traffic from the outside world into a sandbox."""

from __future__ import annotations

import typer

simulate = typer.Typer(no_args_is_help=True, help="Simulate the outside world (sandbox).")
