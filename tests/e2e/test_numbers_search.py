"""GET /v2/numbers/available, /areacodes and /exchanges against a real server: exact JSON of the contract."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from telroute.numbers.inventory import InventoryRow
from tests.e2e.conftest import assert_error, available_item, query_of
from tests.support.server import Server, run_cli

ALASKA = "1907"  # read exactly by these tests, bought by none
PRICEY_NPA = "596"  # a reserved (N9X) area code: only the numbers imported below live there


@pytest.fixture(scope="module")
def pricey(server: Server, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Two numbers in an area code of their own whose setup cost is 5.00."""
    values = [f"1{PRICEY_NPA}2345678", f"1{PRICEY_NPA}2345679"]
    csv = tmp_path_factory.mktemp("pricey") / "pricey.csv"
    lines = [f"{value},ny,pricey,standard,5,2.50" for value in values]
    csv.write_text("value,state,rate_center,number_type,setup_cost,monthly_cost\n" + "\n".join(lines) + "\n")
    run_cli(server.data_dir, "inventory", "import", str(csv))
    return values


def _rows(seeded: dict[str, InventoryRow], prefix: str) -> list[InventoryRow]:
    return [seeded[value] for value in sorted(seeded) if value.startswith(prefix)]


def _pages(client: httpx.Client, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every page of a listing, following `links.next` as Flowroute clients do."""
    page = client.get(path, params=params)
    while True:
        assert page.status_code == 200, page.text
        document: dict[str, Any] = page.json()
        yield document
        if "next" not in document["links"]:
            return
        page = client.get(document["links"]["next"])


# --- /v2/numbers/available ---------------------------------------------------------------------------------


def test_search_renders_the_exact_contract_document(
    api: httpx.Client, base: str, seeded: dict[str, InventoryRow]
) -> None:
    response = api.get("/v2/numbers/available", params={"starts_with": "907", "limit": 3})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.api+json"
    expected_rows = _rows(seeded, ALASKA)[:3]
    assert response.json() == {
        "data": [available_item(row, base) for row in expected_rows],
        "links": {
            "self": f"{base}/v2/numbers/available?starts_with=1907&limit=3&offset=0",
            "next": f"{base}/v2/numbers/available?starts_with=1907&limit=3&offset=3",
        },
    }


def test_search_prices_are_json_numbers_and_whole_dollars_integers(
    api: httpx.Client, seeded: dict[str, InventoryRow]
) -> None:
    items = api.get("/v2/numbers/available", params={"starts_with": ALASKA, "limit": 200}).json()["data"]
    setup_costs = {item["attributes"]["setup_cost"] for item in items}
    assert setup_costs == {1, 3.99}
    assert all(type(item["attributes"]["monthly_cost"]) in (int, float) for item in items)
    standard = next(item for item in items if item["attributes"]["setup_cost"] == 1)
    assert type(standard["attributes"]["setup_cost"]) is int
    assert type(standard["attributes"]["monthly_cost"]) is float


def test_paging_through_next_links_returns_every_number_once_in_order(
    api: httpx.Client, base: str, seeded: dict[str, InventoryRow]
) -> None:
    pages = list(_pages(api, "/v2/numbers/available", {"starts_with": ALASKA, "limit": 50}))
    values = [item["id"] for page in pages for item in page["data"]]
    assert values == [row.value for row in _rows(seeded, ALASKA)]
    offsets = [query_of(page["links"]["self"]) for page in pages]
    assert offsets == [f"starts_with=1907&limit=50&offset={50 * index}" for index in range(len(pages))]
    assert "next" not in pages[-1]["links"]


def test_a_full_last_page_has_no_next_link(api: httpx.Client, seeded: dict[str, InventoryRow]) -> None:
    total = len(_rows(seeded, ALASKA))
    document = api.get("/v2/numbers/available", params={"starts_with": ALASKA, "limit": total}).json()
    assert len(document["data"]) == total
    assert list(document["links"]) == ["self"]


def test_filters_are_echoed_alphabetically_then_limit_and_offset(
    api: httpx.Client, base: str, seeded: dict[str, InventoryRow]
) -> None:
    params: dict[str, str | int] = {"starts_with": "907", "ends_with": "7", "contains": "3", "limit": 3}
    document = api.get("/v2/numbers/available", params=params).json()
    expected = [row for row in _rows(seeded, ALASKA) if row.value.endswith("7") and "3" in row.value]
    assert [item["id"] for item in document["data"]] == [row.value for row in expected[:3]]
    assert query_of(document["links"]["self"]) == "contains=3&ends_with=7&starts_with=1907&limit=3&offset=0"


@pytest.mark.parametrize("starts_with", ["907", "1907", "+1907", "+907", " 907 "])
def test_starts_with_is_matched_against_the_11_digit_number(api: httpx.Client, starts_with: str) -> None:
    document = api.get("/v2/numbers/available", params={"starts_with": starts_with, "limit": 2}).json()
    assert query_of(document["links"]["self"]) == "starts_with=1907&limit=2&offset=0"
    assert all(item["id"].startswith("1907") for item in document["data"])
    assert len(document["data"]) == 2


def test_state_and_rate_center_filters_are_case_insensitive(api: httpx.Client, seeded: dict[str, InventoryRow]) -> None:
    row = _rows(seeded, ALASKA)[0]
    params: dict[str, str | int] = {"state": "AK", "rate_center": row.rate_center.upper(), "limit": 200}
    document = api.get("/v2/numbers/available", params=params).json()
    expected = sorted(v for v, r in seeded.items() if r.state == "ak" and r.rate_center == row.rate_center)
    assert [item["id"] for item in document["data"]] == expected
    assert query_of(document["links"]["self"]) == f"rate_center={row.rate_center}&state=ak&limit=200&offset=0"


@pytest.mark.parametrize(("given", "stored"), [("toll-free", "tollfree"), ("TOLLFREE", "tollfree")])
def test_number_type_filter_finds_toll_free_numbers(api: httpx.Client, given: str, stored: str) -> None:
    document = api.get("/v2/numbers/available", params={"number_type": given, "limit": 20}).json()
    assert len(document["data"]) == 20
    assert {item["attributes"]["number_type"] for item in document["data"]} == {"tollfree"}
    assert {item["id"][1:4] for item in document["data"]} <= {"800", "833", "844", "855", "866", "877", "888"}
    assert query_of(document["links"]["self"]) == f"number_type={stored}&limit=20&offset=0"


@pytest.mark.parametrize("given", ["standard", "longcode"])
def test_number_type_standard_and_longcode_mean_local_numbers(api: httpx.Client, given: str) -> None:
    params: dict[str, str | int] = {"number_type": given, "starts_with": "1800", "limit": 5}
    assert api.get("/v2/numbers/available", params=params).json()["data"] == []
    params["starts_with"] = ALASKA
    items = api.get("/v2/numbers/available", params=params).json()["data"]
    assert len(items) == 5 and {item["attributes"]["number_type"] for item in items} == {"standard"}


def test_limit_above_the_maximum_is_clamped_and_echoed(api: httpx.Client) -> None:
    document = api.get("/v2/numbers/available", params={"limit": 5000}).json()
    assert len(document["data"]) == 200
    assert query_of(document["links"]["self"]) == "limit=200&offset=0"
    assert query_of(document["links"]["next"]) == "limit=200&offset=200"


def test_default_limit_is_ten(api: httpx.Client) -> None:
    document = api.get("/v2/numbers/available").json()
    assert len(document["data"]) == 10
    assert query_of(document["links"]["self"]) == "limit=10&offset=0"


def test_an_empty_result_has_only_a_self_link(api: httpx.Client, base: str) -> None:
    response = api.get("/v2/numbers/available", params={"starts_with": "1999"})
    self_link = f"{base}/v2/numbers/available?starts_with=1999&limit=10&offset=0"
    assert response.json() == {"data": [], "links": {"self": self_link}}


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "abc"}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"limit": "٣"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"rate_center": "seattle"}, "rate_center"),
        ({"starts_with": "20a"}, "starts_with"),
        ({"starts_with": "+"}, "starts_with"),
        ({"contains": "55x"}, "contains"),
        ({"ends_with": "1-2"}, "ends_with"),
        ({"state": "washington"}, "state"),
        ({"number_type": "mobile"}, "number_type"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_parameter(
    api: httpx.Client, params: dict[str, str], parameter: str
) -> None:
    assert_error(api.get("/v2/numbers/available", params=params), 400, parameter=parameter)


# --- /v2/numbers/available/areacodes ----------------------------------------------------------------------


def test_areacodes_document(api: httpx.Client, base: str, seeded: dict[str, InventoryRow]) -> None:
    response = api.get("/v2/numbers/available/areacodes", params={"limit": 3, "max_setup_cost": "3"})
    first = sorted({row.npa for row in seeded.values()})[:3]
    exchanges = f"{base}/v2/numbers/available/exchanges"
    assert response.json() == {
        "data": [{"type": "areacode", "id": npa, "links": {"related": f"{exchanges}?areacode={npa}"}} for npa in first],
        "links": {
            "self": f"{base}/v2/numbers/available/areacodes?max_setup_cost=3&limit=3&offset=0",
            "next": f"{base}/v2/numbers/available/areacodes?max_setup_cost=3&limit=3&offset=3",
        },
    }


def _all_areacodes(client: httpx.Client, **params: str) -> list[str]:
    pages = _pages(client, "/v2/numbers/available/areacodes", {**params, "limit": 1000})
    return [item["id"] for page in pages for item in page["data"]]


def test_max_setup_cost_keeps_only_area_codes_with_a_number_at_or_under_it(
    api: httpx.Client, seeded: dict[str, InventoryRow], pricey: list[str]
) -> None:
    everything = _all_areacodes(api)
    assert everything == sorted(set(everything))
    assert {row.npa for row in seeded.values()} | {PRICEY_NPA} <= set(everything)
    assert PRICEY_NPA in _all_areacodes(api, max_setup_cost="5")
    assert PRICEY_NPA in _all_areacodes(api, max_setup_cost="5.000")
    cheaper = _all_areacodes(api, max_setup_cost="4.99")
    assert PRICEY_NPA not in cheaper
    assert {row.npa for row in seeded.values()} <= set(cheaper)


def test_areacodes_limit_is_clamped_to_400_and_paged(api: httpx.Client) -> None:
    document = api.get("/v2/numbers/available/areacodes", params={"limit": 1000}).json()
    assert len(document["data"]) == 400
    assert query_of(document["links"]["self"]) == "limit=400&offset=0"
    assert query_of(document["links"]["next"]) == "limit=400&offset=400"


def test_no_area_code_has_a_number_under_the_cheapest_price(api: httpx.Client, base: str) -> None:
    document = api.get("/v2/numbers/available/areacodes", params={"max_setup_cost": ".5"}).json()
    assert document == {
        "data": [],
        "links": {"self": f"{base}/v2/numbers/available/areacodes?max_setup_cost=.5&limit=10&offset=0"},
    }


@pytest.mark.parametrize("cost", ["abc", "-1", "1.2.3", "1e3"])
def test_bad_max_setup_cost_is_400(api: httpx.Client, cost: str) -> None:
    response = api.get("/v2/numbers/available/areacodes", params={"max_setup_cost": cost})
    assert_error(response, 400, parameter="max_setup_cost")


# --- /v2/numbers/available/exchanges ----------------------------------------------------------------------


def test_exchanges_document(api: httpx.Client, base: str, seeded: dict[str, InventoryRow]) -> None:
    response = api.get("/v2/numbers/available/exchanges", params={"areacode": "907", "limit": 2})
    blocks = sorted({row.npa + row.nxx for row in _rows(seeded, ALASKA)})
    assert response.json() == {
        "data": [
            {"type": "exchange", "id": block, "links": {"related": f"{base}/v2/numbers/available?starts_with=1{block}"}}
            for block in blocks[:2]
        ],
        "links": {
            "self": f"{base}/v2/numbers/available/exchanges?areacode=907&limit=2&offset=0",
            "next": f"{base}/v2/numbers/available/exchanges?areacode=907&limit=2&offset=2",
        },
    }


def test_exchanges_of_an_area_code_page_to_the_end(api: httpx.Client, seeded: dict[str, InventoryRow]) -> None:
    pages = list(_pages(api, "/v2/numbers/available/exchanges", {"areacode": "907", "limit": 7}))
    found = [item["id"] for page in pages for item in page["data"]]
    assert found == sorted({row.npa + row.nxx for row in _rows(seeded, ALASKA)})


def test_exchanges_honour_max_setup_cost(api: httpx.Client, base: str, pricey: list[str]) -> None:
    block = pricey[0][1:7]
    cheap = api.get("/v2/numbers/available/exchanges", params={"areacode": PRICEY_NPA, "max_setup_cost": "4"})
    assert cheap.json()["data"] == []
    dear = api.get("/v2/numbers/available/exchanges", params={"areacode": PRICEY_NPA, "max_setup_cost": "5"}).json()
    assert [item["id"] for item in dear["data"]] == [block]
    assert query_of(dear["links"]["self"]) == f"areacode={PRICEY_NPA}&max_setup_cost=5&limit=10&offset=0"


def test_an_exchange_link_leads_to_its_numbers(api: httpx.Client, pricey: list[str]) -> None:
    exchanges = api.get("/v2/numbers/available/exchanges", params={"areacode": PRICEY_NPA}).json()["data"]
    numbers = api.get(exchanges[0]["links"]["related"]).json()["data"]
    assert [item["id"] for item in numbers] == pricey
    assert {item["attributes"]["setup_cost"] for item in numbers} == {5}


@pytest.mark.parametrize("areacode", ["20", "2066", "abc", "106"])
def test_bad_areacode_is_400(api: httpx.Client, areacode: str) -> None:
    response = api.get("/v2/numbers/available/exchanges", params={"areacode": areacode})
    assert_error(response, 400, parameter="areacode")


def test_search_needs_authentication(server: Server) -> None:
    with server.client() as anonymous:
        for path in ("/v2/numbers/available", "/v2/numbers/available/areacodes", "/v2/numbers/available/exchanges"):
            assert_error(anonymous.get(path), 401)
