"""The v2.2 document schemas are v2.1's, generated from the same Structs, with E.164 `to` and `from`:
what `views.V22` renders validates against them, and v2.1's own rendering does not."""

from __future__ import annotations

from typing import Any

import jsonschema
import msgspec
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from telroute import openapi
from telroute.messages import schemas
from telroute.messages.contract_v22 import V22_VARIANTS
from telroute.messages.views import V21, V22

URI = "urn:telroute:openapi"
MESSAGE = {
    "public_id": "mdr2-" + "0" * 32, "body": "x", "status": "delivered", "direction": "outbound",
    "amount_nd": 4_000_000, "to_number": "13125550123", "from_number": "12065550100", "message_encoding": 0,
    "created_at_us": 1_700_000_000_000_000, "is_mms": False, "message_type": "longcode",
}  # fmt: skip
MEDIA = {
    "public_id": "123456789012345678-a.png", "url": "http://m/a.png", "file_name": "a.png", "mime_type": "image/png",
    "file_size": 1,
}  # fmt: skip


def _errors(component: str, instance: Any) -> list[str]:
    registry: Registry[Any] = Registry().with_resource(URI, DRAFT202012.create_resource(openapi.document()))
    validator = jsonschema.Draft202012Validator({"$ref": f"{URI}#/components/schemas/{component}"}, registry=registry)
    return [error.message for error in validator.iter_errors(instance)]


def _rendered(document: msgspec.Struct) -> Any:
    return msgspec.json.decode(msgspec.json.encode(document))


def test_the_v22_components_are_v21s_but_for_the_numbers_and_the_names() -> None:
    components = openapi.document()["components"]["schemas"]
    for v21_name, v22_name in V22_VARIANTS.items():
        v21, v22 = repr(components[v21_name]), repr(components[v22_name])
        for name, variant in V22_VARIANTS.items():
            v21 = v21.replace(f"/{name}'", f"/{variant}'")
        if v21_name != "MdrAttributes":
            assert v21 == v22, v22_name
    v21_numbers = components["MdrAttributes"]["properties"]
    v22_numbers = components["MdrAttributesV22"]["properties"]
    assert {name for name in v21_numbers if v21_numbers[name] != v22_numbers[name]} == {"to", "from"}


def test_what_v22_renders_matches_its_schema_and_not_v21s() -> None:
    document = V22.message_document(schemas.message_document(MESSAGE, [], [MEDIA], "http://h"), "http://h")
    assert _errors("MessageDocumentV22", _rendered(document)) == []
    assert len(_errors("MessageDocument", _rendered(document))) == 2
    page = schemas.messages_page([V22.mdr(schemas.mdr(MESSAGE, []))], {"self": "http://h/v2.2/messages"})
    assert _errors("MessagesV22", _rendered(page)) == []


def test_what_v21_renders_does_not_match_v22s_schema() -> None:
    document = V21.message_document(schemas.message_document(MESSAGE, [], [], "http://h"), "http://h")
    assert _errors("MessageDocument", _rendered(document)) == []
    assert len(_errors("MessageDocumentV22", _rendered(document))) == 2
