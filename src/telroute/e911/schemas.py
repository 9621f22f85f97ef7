"""The wire shapes of E911 addresses, as Flowroute's API reference and SDK READMEs show them."""

from __future__ import annotations

from typing import Any

from telroute.kit.db import Row

ATTRIBUTES = (
    "label", "first_name", "last_name", "street_name", "street_number", "address_type", "address_type_number",
    "city", "state", "country", "zip",
)  # fmt: skip


def address(row: Row, base: str) -> dict[str, Any]:
    return {
        "type": "e911",
        "id": str(row["id"]),
        "attributes": {name: row[name] for name in ATTRIBUTES},
        "links": {"self": f"{base}/v2/e911s/{row['id']}"},
    }


def number(row: Row, base: str) -> dict[str, Any]:
    value = row["value"]
    return {
        "type": "number",
        "id": value,
        "attributes": {"alias": row["alias"], "value": value},
        "links": {"self": f"{base}/v2/numbers/{value}"},
    }
