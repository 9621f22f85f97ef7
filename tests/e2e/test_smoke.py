from __future__ import annotations

from tests.support.server import Server


def test_healthz_needs_no_auth(server: Server) -> None:
    with server.client() as client:
        response = client.get("/healthz")
    assert response.status_code == 200


def test_buy_a_number_and_see_it_listed(server: Server, account: tuple[str, str]) -> None:
    with server.client(account) as client:
        found = client.get("/v2/numbers/available", params={"starts_with": "206", "limit": 1}).json()
        number = found["data"][0]["id"]
        bought = client.post(f"/v2/numbers/{number}")
        listed = client.get("/v2/numbers").json()
    assert bought.status_code == 201
    assert [item["id"] for item in listed["data"]] == [number]
