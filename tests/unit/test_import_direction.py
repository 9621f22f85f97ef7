"""The direction of imports that docs/architecture.md ("Packages and the direction of imports") states, read
from the AST of every module under src/telroute, imports inside functions included."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import telroute

ROOT = Path(telroute.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _imported(node: ast.AST, modules: dict[str, Path]) -> set[str]:
    """The telroute modules one import statement names (`from telroute.x import y` names `telroute.x.y`
    when that is a module, else `telroute.x`)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name.split(".")[0] == "telroute"}
    if isinstance(node, ast.ImportFrom) and node.module is not None and node.module.split(".")[0] == "telroute":
        return {
            f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
            for alias in node.names
        }
    return set()


@cache
def _imports() -> dict[str, frozenset[str]]:
    modules = _modules()
    found: dict[str, frozenset[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found[name] = frozenset(target for node in ast.walk(tree) for target in _imported(node, modules))
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def _from_to(source: str, target: str) -> list[str]:
    return sorted(
        f"{name} -> {imported}"
        for name, imports in _imports().items()
        if _within(name, source)
        for imported in imports
        if _within(imported, target)
    )


def test_the_walk_sees_imports_at_the_top_and_inside_functions() -> None:
    assert "telroute.bootstrap" in _imports()["telroute.accounts.auth"]
    assert "telroute.messages.retention" in _imports()["telroute.runtime"]  # `from telroute.messages import …`
    assert "telroute.carriers.smpp.carrier" in _imports()["telroute.carriers.factory"]  # inside a function


def test_messages_never_imports_carriers() -> None:
    assert _from_to("telroute.messages", "telroute.carriers") == []


def test_carriers_reach_messages_only_through_its_carrier_port() -> None:
    through_other_modules = [
        edge
        for edge in _from_to("telroute.carriers", "telroute.messages")
        if not edge.endswith(" -> telroute.messages.carrier_port")
    ]
    assert through_other_modules == []


def _is_cli(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last in ("cli", "cli_common") or last.endswith("_cli")


def _is_repository(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last == "repository" or last.endswith("_repository")


def test_no_cli_module_imports_a_repository() -> None:
    """Commands go through a feature's service, which owns the transaction's work."""
    clis = [name for name in _imports() if _is_cli(name)]
    assert "telroute.cli" in clis and "telroute.messages.cli" in clis
    reaching = [f"{name} -> {target}" for name in clis for target in _imports()[name] if _is_repository(target)]
    assert reaching == []


def test_accounts_and_bootstrap_do_not_import_each_other() -> None:
    """Features import `bootstrap.Deps`; the composition root imports no feature but `deployment`, so the
    failed-login throttle and the account gate it holds live in `kit`."""
    assert _from_to("telroute.accounts", "telroute.bootstrap") != []  # the intended direction
    assert _from_to("telroute.bootstrap", "telroute.accounts") == []
