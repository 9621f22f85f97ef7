"""A callback try renders as the document says: the payload as the JSON object that was sent, or null for a
try recorded without one, and the outcome from the status and the dead letter."""

from __future__ import annotations

from typing import Any

import jsonschema
import msgspec
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from telroute import openapi
from telroute.sandbox_tools.callbacks_schemas import SandboxCallbackDocument, callback_record

URI = "urn:telroute:openapi"
ROW = {
    "id": 7, "event": "dlr", "message_public_id": "mdr2-" + "0" * 32, "url": "http://app/cb", "attempt": 2,
    "status_code": 500, "latency_ms": 12.5, "error": None, "payload": '{"data":{"id":"x","n":[1,2.5,null]}}',
    "dead_lettered": 1, "created_at_us": 0,
}  # fmt: skip


def _rendered(row: dict[str, Any]) -> Any:
    return msgspec.json.decode(msgspec.json.encode(SandboxCallbackDocument(callback_record(row))))


def _errors(instance: Any) -> list[str]:
    registry: Registry[Any] = Registry().with_resource(URI, DRAFT202012.create_resource(openapi.document()))
    schema = {"$ref": f"{URI}#/components/schemas/SandboxCallbackDocument"}
    validator = jsonschema.Draft202012Validator(schema, registry=registry)
    return [error.message for error in validator.iter_errors(instance)]


def test_a_try_renders_its_payload_as_the_object_sent() -> None:
    rendered = _rendered(ROW)
    assert rendered == {
        "data": {
            "type": "sandbox_callback",
            "id": "7",
            "attributes": {
                "message_id": "mdr2-" + "0" * 32,
                "kind": "dlr",
                "url": "http://app/cb",
                "payload": {"data": {"id": "x", "n": [1, 2.5, None]}},
                "attempt": 2,
                "status": 500,
                "latency_ms": 12.5,
                "error": None,
                "dead_lettered": True,
                "outcome": "dead_lettered",
                "created_at": "1970-01-01T00:00:00Z",
            },
        }
    }
    assert _errors(rendered) == []


def test_a_try_without_a_payload_renders_null() -> None:
    rendered = _rendered({**ROW, "payload": None, "message_public_id": None, "status_code": 204})
    attributes = rendered["data"]["attributes"]
    assert (attributes["payload"], attributes["message_id"], attributes["outcome"]) == (None, None, "delivered")
    assert _errors(rendered) == []


def test_the_document_refuses_a_payload_that_is_not_an_object() -> None:
    rendered = _rendered({**ROW, "payload": "[1]"})
    assert _errors(rendered) != []
