"""`telroute webhooks ...`: callback attempts and dead letters."""

from __future__ import annotations

import typer

webhooks = typer.Typer(no_args_is_help=True, help="Inspect callback deliveries and replay dead letters.")
