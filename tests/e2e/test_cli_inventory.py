"""`telroute inventory import|stats|generate` as a person runs them: next to a running server, and on a fresh
data dir."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support.server import Server, base_env, run_cli

HEADER = "value,state,rate_center,number_type,setup_cost,monthly_cost"


def _write(path: Path, *rows: str) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


_EXCHANGES = iter(random.sample(range(200, 1000), 20))


def _exchange() -> str:
    """A block of a reserved (N9X) area code no other test uses, different for every test and run."""
    return f"1594{next(_EXCHANGES)}"


def _stats(server: Server) -> dict[str, int]:
    figures: dict[str, int] = json.loads(run_cli(server.data_dir, "inventory", "stats", "--json").stdout)
    return figures


def _available(api: httpx.Client, prefix: str) -> list[dict[str, object]]:
    document = api.get("/v2/numbers/available", params={"starts_with": prefix, "limit": 50})
    assert document.status_code == 200
    data: list[dict[str, object]] = document.json()["data"]
    return data


def test_import_adds_every_row_to_the_running_servers_inventory(
    server: Server, api: httpx.Client, tmp_path: Path
) -> None:
    block = _exchange()
    csv = _write(
        tmp_path / "good.csv",
        f"{block}0100,NY,TestVille,standard,1,1.25",
        f"+{block}0137,ny,testville,,,",  # blank type and prices: the number's own
        f"{block[1:]}0138,ny,testvil01,longcode,2.5,3",
        "",  # a blank line is skipped
    )
    result = run_cli(server.data_dir, "inventory", "import", str(csv))
    assert "imported 3 numbers (1 area codes, 1 exchanges, 0 toll-free)" in " ".join(result.stdout.split())
    found = {item["id"]: item["attributes"] for item in _available(api, block)}
    assert found == {
        f"{block}0100": {"rate_center": "testville", "value": f"{block}0100", "monthly_cost": 1.25, "state": "ny",
                         "number_type": "standard", "setup_cost": 1},
        f"{block}0137": {"rate_center": "testville", "value": f"{block}0137", "monthly_cost": 1.25, "state": "ny",
                         "number_type": "standard", "setup_cost": 1},
        f"{block}0138": {"rate_center": "testvil01", "value": f"{block}0138", "monthly_cost": 3, "state": "ny",
                         "number_type": "standard", "setup_cost": 2.5},
    }  # fmt: skip
    by_rate_center = api.get("/v2/numbers/available", params={"state": "NY", "rate_center": "TESTVIL01"}).json()
    assert [item["id"] for item in by_rate_center["data"]] == [f"{block}0138"]


def _exchanges_of_594(api: httpx.Client) -> list[str]:
    document = api.get("/v2/numbers/available/exchanges", params={"areacode": "594", "limit": 200})
    assert document.status_code == 200
    return [item["id"] for item in document.json()["data"]]


def _soon(check: Callable[[], bool]) -> bool:
    """On PostgreSQL the server hears of another process's change by a NOTIFY, a moment after its commit."""
    deadline = time.monotonic() + 5
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)
    return check()


def test_the_servers_answers_follow_an_import_a_purchase_and_a_release(
    server: Server, api: httpx.Client, tmp_path: Path
) -> None:
    block = _exchange()
    number = f"{block}0100"
    for _ in range(2):  # asked twice: the answers the server keeps (numbers/answers.py) are the ones checked
        assert _available(api, block) == [] and block[1:] not in _exchanges_of_594(api)
    run_cli(server.data_dir, "inventory", "import", str(_write(tmp_path / "one.csv", f"{number},ny,testville,,,")))
    assert _soon(lambda: [item["id"] for item in _available(api, block)] == [number])
    assert block[1:] in _exchanges_of_594(api)
    assert api.post(f"/v2/numbers/{number}").status_code == 201
    assert _available(api, block) == [] and block[1:] not in _exchanges_of_594(api)
    assert api.delete(f"/v2/numbers/{number}").status_code == 204
    assert [item["id"] for item in _available(api, block)] == [number]
    assert block[1:] in _exchanges_of_594(api)


def test_a_bad_file_is_reported_by_line_and_nothing_is_imported(
    server: Server, api: httpx.Client, tmp_path: Path
) -> None:
    block = _exchange()
    csv = _write(
        tmp_path / "bad.csv",
        f"{block}0200,ny,testville,standard,1,1.25",
        f"{block}020x,ny,testville,standard,1,1.25",
        f"{block}0201,nyc,testville,standard,1,1.25",
        f"{block}0200,ny,testville,standard,1,1.25",
        f"{block}0202,ny,testville,standard,-1,1.25",
        f"{block}0203,ny,testville",
    )
    result = run_cli(server.data_dir, "inventory", "import", str(csv), check=False)
    assert result.returncode == 1
    reported = [line.split(":")[0] for line in result.stderr.splitlines() if line.startswith("line ")]
    assert reported == ["line 3", "line 4", "line 5", "line 6", "line 7"]
    assert "nothing was imported" in " ".join(result.stderr.split())
    assert _available(api, block) == []


def test_a_number_that_exists_already_refuses_the_whole_file(server: Server, api: httpx.Client, tmp_path: Path) -> None:
    owned = api.get("/v2/numbers/available", params={"starts_with": "1603", "limit": 1}).json()["data"][0]["id"]
    assert api.post(f"/v2/numbers/{owned}").status_code == 201
    spare = api.get("/v2/numbers/available", params={"starts_with": "1603", "limit": 1}).json()["data"][0]["id"]
    block = _exchange()
    csv = _write(
        tmp_path / "conflicts.csv",
        f"{block}0300,ny,testville,standard,1,1.25",
        f"{owned},nh,alstead,standard,1,1.25",
        f"{block}0301,ny,testville,standard,1,1.25",
        f"+{spare},nh,alstead,,,",
    )
    result = run_cli(server.data_dir, "inventory", "import", str(csv), check=False)
    assert result.returncode == 1
    assert f"line 3: {owned} is owned by an account" in result.stderr
    assert f"line 5: {spare} is already in the inventory" in result.stderr
    assert _available(api, block) == []
    assert api.get(f"/v2/numbers/{owned}").status_code == 200


def test_a_file_with_a_wrong_header_is_refused(server: Server, tmp_path: Path) -> None:
    csv = tmp_path / "header.csv"
    csv.write_text("number,state\n12065550100,wa\n")
    result = run_cli(server.data_dir, "inventory", "import", str(csv), check=False)
    assert result.returncode == 1
    assert "line 1: header must be exactly" in result.stderr


def test_stats_counts_owned_numbers(server: Server, api: httpx.Client) -> None:
    before = _stats(server)
    assert set(before) == {"total", "available", "owned", "areacodes"}
    assert before["total"] == before["available"] + before["owned"]
    assert before["areacodes"] >= 300
    number = api.get("/v2/numbers/available", params={"starts_with": "1603", "limit": 1}).json()["data"][0]["id"]
    assert api.post(f"/v2/numbers/{number}").status_code == 201
    after = _stats(server)
    assert (after["available"], after["owned"]) == (before["available"] - 1, before["owned"] + 1)
    table = run_cli(server.data_dir, "inventory", "stats").stdout
    assert f"{after['total']:,}" in table and "area codes" in table


@pytest.mark.sqlite_only
def test_generate_on_a_fresh_data_dir_then_refuses_then_merges(tmp_path: Path) -> None:
    env = base_env(tmp_path, TELROUTE_DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}")
    first = json.loads(run_cli(tmp_path, "inventory", "generate", "--per-block", "1", "--json", env=env).stdout)
    assert first["added"] > 30_000 and first["skipped"] == 0
    stats = json.loads(run_cli(tmp_path, "inventory", "stats", "--json", env=env).stdout)
    assert stats == {"total": first["added"], "available": first["added"], "owned": 0, "areacodes": stats["areacodes"]}
    assert stats["areacodes"] >= 300
    again = run_cli(tmp_path, "inventory", "generate", "--per-block", "1", env=env, check=False)
    assert again.returncode == 1 and "--merge" in again.stderr
    merged = json.loads(
        run_cli(tmp_path, "inventory", "generate", "--per-block", "1", "--merge", "--json", env=env).stdout
    )
    assert merged["added"] == 0 and merged["skipped"] == first["added"]
