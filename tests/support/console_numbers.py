"""A number with an E911 address and a CNAM preset, for the console's numbers view (over HTTP and in
the browser): the address's label is hostile markup, which the console must show as text."""

from __future__ import annotations

import httpx

from tests.support.server import Server, run_cli

HOSTILE_LABEL = '<img src=x onerror="window.pwned=3">'
SEATTLE = {
    "label": HOSTILE_LABEL, "first_name": "Maria", "last_name": "Bermudez", "street_name": "20th Ave SW",
    "street_number": "7742", "city": "Seattle", "state": "WA", "country": "USA", "zip": "98106",
}  # fmt: skip


def give_e911_and_cnam(server: Server, api: httpx.Client, number: str, name: str) -> tuple[str, str]:
    """Attach a new E911 address (its label hostile markup) and an approved CNAM preset to `number`."""
    created = api.post("/v2/e911s", json={"data": {"type": "e911", "attributes": SEATTLE}})
    assert created.status_code == 201, created.text
    address = str(created.json()["data"]["id"])
    assert api.patch(f"/v2/numbers/{number}/relationships/e911s/{address}").status_code == 204
    preset = api.post("/v2/cnams", json={"value": name})
    assert preset.status_code == 201, preset.text
    preset_id = str(preset.json()["data"]["id"])
    run_cli(server.data_dir, "cnam", "approve", preset_id)
    assert api.patch(f"/v2/numbers/{number}/relationships/cnam/{preset_id}").status_code == 202
    return address, preset_id
