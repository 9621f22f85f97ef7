"""The requests the official Flowroute SDKs' E911 and CNAM controllers send, replayed byte for byte
(method, path, headers that matter, content type, body) over a real socket. The SDKs are not on the
package registries, so tests replay them instead of importing them.

Python: flowroute-sdk-v3-python, flowroutenumbersandmessaging/controllers/{e911s,cnams}_controller.py.
Its HTTP client is `requests`: a `str` body (APIHelper.json_serialize, i.e. json.dumps) goes out with
NO Content-Type; a `dict` body is form-encoded. Node: flowroute-sdk-v3-nodejs,
lib/Controllers/{E911s,Cnams}Controller.js, JSON with `content-type: application/json; charset=utf-8`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import httpx

USER_AGENT = {"user-agent": "Flowroute SDK v3.0"}
_PY_WRITE = {**USER_AGENT, "accept": "application/vnd.api+json"}
_PY_CNAM = {**USER_AGENT, "accept": "application/json"}
_NODE = {**USER_AGENT, "accept": "application/json"}
_NODE_JSON = {**_NODE, "content-type": "application/json; charset=utf-8"}


def _query(parameters: dict[str, Any]) -> str:
    """APIHelper.append_url_with_query_parameters: None dropped, str() of the rest (True -> `True`)."""
    present = [(key, str(value)) for key, value in parameters.items() if value is not None]
    return "?" + urlencode(present, quote_via=quote) if present else ""


def e911_body(**attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "e911", "attributes": attributes}}


class PythonSdk:
    """`E911sController` and `CNAMsController` of the Python SDK."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def _json(self, method: str, url: str, body: Any) -> httpx.Response:
        return self.client.request(method, url, headers=_PY_WRITE, content=json.dumps(body).encode())

    def list_e911s(
        self, limit: int | None = None, offset: int | None = None, state: str | None = None
    ) -> httpx.Response:
        return self.client.get(
            "/v2/e911s" + _query({"limit": limit, "offset": offset, "state": state}), headers=USER_AGENT
        )

    def get_e911(self, e911_id: str) -> httpx.Response:
        return self.client.get(f"/v2/e911s/{e911_id}", headers=USER_AGENT)

    @staticmethod
    def _address(fields: dict[str, Any]) -> dict[str, Any]:
        address_type, number = fields.pop("address_type", None), fields.pop("address_type_number", None)
        attributes = {key: fields[key] for key in ("label", "first_name", "last_name", "street_name", "street_number",
                                                  "city", "state", "country")}  # fmt: skip
        attributes["zip"] = fields["zipcode"]
        if address_type and number:
            attributes["address_type"], attributes["address_type_number"] = address_type, number
        return {"data": {"type": "e911", "attributes": attributes}}

    def validate_address(self, **fields: Any) -> httpx.Response:
        return self._json("POST", "/v2/e911s/validate", self._address(fields))

    def create_address(self, **fields: Any) -> httpx.Response:
        return self._json("POST", "/v2/e911s", self._address(fields))

    def update_address(self, e911_id: str, **changes: Any) -> httpx.Response:
        """GET the record, change the given fields, PATCH the whole document back (as the SDK does)."""
        record = self.get_e911(e911_id).json()
        attributes = record["data"]["attributes"]
        for name in ("label", "first_name", "last_name", "street_name", "city", "state", "country"):
            if changes.get(name) is not None:
                attributes[name] = changes[name]
        if changes.get("street_number") is not None:
            attributes["street_number"] = str(changes["street_number"])
        if changes.get("zipcode") is not None:
            attributes["zip"] = attributes["zip_code"] = str(changes["zipcode"])
        attributes["address_type"] = changes.get("address_type")
        attributes["address_type_number"] = changes.get("address_type_number")
        if attributes.get("address_type") == "":
            attributes.pop("address_type")
            attributes.pop("address_type_number", None)
        return self._json("PATCH", f"/v2/e911s/{e911_id}", record)

    def delete_address(self, e911_id: str) -> httpx.Response:
        return self.client.delete(f"/v2/e911s/{e911_id}", headers=_PY_WRITE)

    def associate(self, e911_id: str, did: str) -> httpx.Response:
        return self.client.patch(f"/v2/numbers/{did}/relationships/e911s/{e911_id}", headers=_PY_WRITE)

    def disconnect(self, did: str) -> httpx.Response:
        return self.client.delete(f"/v2/numbers/{did}/relationships/e911s", headers=_PY_WRITE)

    def list_dids_for_e911(self, e911_id: str) -> httpx.Response:
        return self.client.get(f"/v2/e911s/{e911_id}/relationships/numbers", headers=USER_AGENT)

    def list_cnams(
        self, limit: int | None = None, offset: int | None = None, is_approved: bool | None = None
    ) -> httpx.Response:
        query = _query({"limit": limit, "offset": offset, "is_approved": is_approved})
        return self.client.get("/v2/cnams" + query, headers=USER_AGENT)

    def get_cnam(self, cnam_id: str) -> httpx.Response:
        return self.client.get(f"/v2/cnams/{cnam_id}", headers=USER_AGENT)

    def create_cnam_record(self, value: str) -> httpx.Response:
        return self.client.post("/v2/cnams", headers=_PY_CNAM, data={"value": value})

    def _did(self, phone_number: str) -> str:
        """What associate_cnam and unassociate_cnam look up first: list_account_phone_numbers(contains=...)."""
        found = self.client.get("/v2/numbers" + _query({"contains": phone_number}), headers=USER_AGENT)
        return str(found.json()["data"][0]["id"])

    def associate_cnam(self, cnam_id: str, phone_number: str) -> httpx.Response:
        did = self._did(phone_number)
        return self.client.patch(f"/v2/numbers/{did}/relationships/cnam/{cnam_id}", headers=_PY_CNAM)

    def unassociate_cnam(self, phone_number: str) -> httpx.Response:
        did = self._did(phone_number)
        return self.client.delete(f"/v2/numbers/{did}/relationships/cnam", headers=_PY_CNAM)

    def remove_cnam(self, cnam_id: str) -> httpx.Response:
        return self.client.delete(f"/v2/cnams/{cnam_id}", headers=_PY_CNAM)


class NodeSdk:
    """`E911sController` and `CnamsController` of the Node SDK."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def _json(self, method: str, url: str, body: Any, headers: dict[str, str] = _NODE_JSON) -> httpx.Response:
        return self.client.request(method, url, headers=headers, content=json.dumps(body).encode())

    def create_and_validate_a_new_e911_address(self, body: dict[str, Any]) -> httpx.Response:
        return self._json("POST", "/v2/e911s", body)

    def validate_an_e911_address(self, body: dict[str, Any]) -> httpx.Response:
        return self._json(
            "POST", "/v2/e911s/validate", body, {**USER_AGENT, "content-type": _NODE_JSON["content-type"]}
        )

    def update_and_validate_an_existing_e911_address(self, e911_id: str, body: dict[str, Any]) -> httpx.Response:
        return self._json("PATCH", f"/v2/e911s/{e911_id}", body)

    def list_account_e911_addresses(self, limit: int | None = None, offset: int | None = None,
                                    state: str | None = None) -> httpx.Response:  # fmt: skip
        return self.client.get("/v2/e911s" + _query({"limit": limit, "offset": offset, "state": state}), headers=_NODE)

    def update_assign_a_valid_e911_address_to_your_phone_number(self, number_id: str, e911_id: str) -> httpx.Response:
        return self.client.patch(f"/v2/numbers/{number_id}/relationships/e911s/{e911_id}", headers=_NODE)

    def delete_deactivate_e911_service_for_your_phone_number(self, number_id: str) -> httpx.Response:
        return self.client.delete(f"/v2/numbers/{number_id}/relationships/e911s", headers=USER_AGENT)

    def create_a_new_cnam_record(self, value: str, m_content_type: str = "application/vnd.api+json") -> httpx.Response:
        """The controller also sends a header literally named `'Content-Type'` (quotes included) with the
        caller's `mContentType` (the demo passes application/vnd.api+json)."""
        headers = {**_NODE_JSON, "'Content-Type'": m_content_type}
        return self._json("POST", "/v2/cnams", {"value": value}, headers)

    def list_account_cnam_records(self, limit: int | None = 10, offset: int | None = None,
                                  is_approved: bool | None = None) -> httpx.Response:  # fmt: skip
        approved = None if is_approved is None else str(is_approved).lower()  # JavaScript's true/false
        query = _query({"limit": limit, "offset": offset, "is_approved": approved})
        return self.client.get("/v2/cnams" + query, headers=_NODE)

    def update_assign_a_cnam_record_to_your_phone_number(self, number_id: str, cnam_id: str) -> httpx.Response:
        return self.client.patch(f"/v2/numbers/{number_id}/relationships/cnams/{cnam_id}", headers=_NODE)

    def delete_unassign_a_cnam_record_from_your_phone_number(self, number_id: str) -> httpx.Response:
        return self.client.delete(f"/v2/numbers/{number_id}/relationships/cnams", headers=_NODE)
