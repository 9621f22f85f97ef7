"""`telroute`'s command line imports only the module of the command it runs; `--help` lists them all."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from telroute.cli import COMMAND_MODULES, command_app

pytestmark = pytest.mark.no_database


def _commands(app: typer.Typer) -> list[str]:
    return list(typer.main.get_group(app).commands)


@pytest.mark.parametrize("word", sorted(COMMAND_MODULES))
def test_each_command_word_loads_the_module_that_defines_it(word: str) -> None:
    assert word in _commands(command_app([word, "--help"]))


@pytest.mark.parametrize("arguments", [[], ["--help"], ["acounts", "list"]])
def test_help_and_unknown_words_load_every_command(arguments: list[str]) -> None:
    assert sorted(_commands(command_app(arguments))) == sorted(COMMAND_MODULES)


def test_a_command_imports_no_other_command_module() -> None:
    probe = (
        "import sys; from telroute.cli import COMMAND_MODULES, command_app; command_app(['accounts', 'list']); "
        "print(sorted({m for m in COMMAND_MODULES.values() if m in sys.modules}))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert loaded.stdout.strip() == "['telroute.accounts.cli']"
