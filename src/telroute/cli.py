"""The `telroute` command: servers and admin commands. It calls services only.

Each module named below registers its commands. A command line imports only the module of its first
word (an admin command starts in about half the CPU that importing them all took); `--help` and
words that name no command import every one, in this order, which is the order `--help` lists them in.
"""

from __future__ import annotations

import importlib
import os
import sys

import typer

COMMAND_MODULES: dict[str, str] = {
    "accounts": "telroute.accounts.cli",
    "inventory": "telroute.numbers.cli",
    "simulate": "telroute.messages.cli",
    "webhooks": "telroute.webhooks.cli",
    "carriers": "telroute.carriers.cli",
    "routes": "telroute.carriers.cli",
    "policy": "telroute.policy_cli",
    "init": "telroute.policy_cli",
    "cnam": "telroute.cnam.cli",
    "migrate": "telroute.server_cli",
    "serve": "telroute.server_cli",
    "worker": "telroute.server_cli",
    "backup": "telroute.backup_cli",
    "restore": "telroute.backup_cli",
}


def command_app(arguments: list[str]) -> typer.Typer:
    """The `telroute` app with the commands `arguments` (a command line after the program) can run."""
    app = typer.Typer(
        no_args_is_help=True, add_completion=False, help="telroute: Flowroute-compatible numbers and messaging."
    )
    first = arguments[0] if arguments else ""
    names = [COMMAND_MODULES[first]] if first in COMMAND_MODULES else list(dict.fromkeys(COMMAND_MODULES.values()))
    for name in names:
        importlib.import_module(name).register(app)
    return app


def main() -> None:
    os.umask(0o077)  # the data dir, the database and its WAL, keys and backups: the owner's alone
    command_app(sys.argv[1:])()
