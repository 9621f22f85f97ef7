"""HTTP for /v2/e911s and a number's E911 relationship: parse, call the service, render JSON:API.

Bodies are JSON whatever the Content-Type (the Python SDK sends none), JSON:API shaped."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from telroute.accounts.auth import authenticated
from telroute.accounts.model import Account
from telroute.bootstrap import Deps
from telroute.e911 import schemas, service
from telroute.e911.model import AddressFields, E911Document
from telroute.errors import BadRequest
from telroute.kit import jsonapi
from telroute.kit.http import convert, parse_json, read_body
from telroute.kit.paths import path_id
from telroute.kit.query import query_params
from telroute.numbers.paths import path_number

_STATE_PARAMETER = "state"


async def _fields(request: Request, address_id: int | None = None) -> AddressFields:
    document = convert(parse_json(await read_body(request)), E911Document, "")
    if document.data.type != "e911":
        raise BadRequest("data.type must be e911", pointer="/data/type")
    if address_id is not None and document.data.id is not None and str(document.data.id) != str(address_id):
        raise BadRequest("data.id must be the id in the path", pointer="/data/id")
    return document.data.attributes


def _state_filter(request: Request) -> str | None:
    raw = query_params(request).get(_STATE_PARAMETER, "").strip()
    if not raw:
        return None
    if len(raw) != 2 or not raw.isascii() or not raw.isalpha():
        raise BadRequest("state must be a two-letter state or province code", parameter=_STATE_PARAMETER)
    return raw.upper()


def _address_id(request: Request) -> int:
    return path_id(request, "e911_id", "E911 address")


def routes(deps: Deps) -> list[Route]:
    async def list_addresses(request: Request, account: Account) -> Response:
        page = jsonapi.parse_page(request, 10, 200)
        state = _state_filter(request)
        rows, more = await service.page(deps.db, account, state, page)
        root = jsonapi.base_url(request)
        links = jsonapi.page_links(root, "/v2/e911s", {"state": state}, page, more)
        return jsonapi.document(schemas.addresses(rows, root, links))

    async def get_address(request: Request, account: Account) -> Response:
        row = await service.get(deps.db, account, _address_id(request))
        return jsonapi.document(schemas.address_document(row, jsonapi.base_url(request)))

    async def validate(request: Request, account: Account) -> Response:
        await service.checked(service.given(await _fields(request)))
        return jsonapi.no_content()

    async def create(request: Request, account: Account) -> Response:
        address = await service.checked(service.given(await _fields(request)))
        async with deps.db.transaction() as connection:
            row = await service.create(connection, account, address, now=deps.clock())
        return jsonapi.document(schemas.address_document(row, jsonapi.base_url(request)), status=201)

    async def update(request: Request, account: Account) -> Response:
        address_id = _address_id(request)
        changes = service.given(await _fields(request, address_id))
        stored = await service.stored_values(deps.db, account, address_id)
        address = await service.checked({**stored, **changes})
        async with deps.db.transaction() as connection:
            row = await service.update(connection, account, address_id, address)
        return jsonapi.document(schemas.address_document(row, jsonapi.base_url(request)))

    async def delete(request: Request, account: Account) -> Response:
        address_id = _address_id(request)
        async with deps.db.transaction() as connection:
            await service.delete(connection, account, address_id)
        return jsonapi.no_content()

    async def list_numbers(request: Request, account: Account) -> Response:
        address_id = _address_id(request)
        page = jsonapi.parse_page(request, 10, 200)
        rows, more = await service.numbers(deps.db, account, address_id, page)
        root = jsonapi.base_url(request)
        links = jsonapi.page_links(root, f"/v2/e911s/{address_id}/relationships/numbers", {}, page, more)
        return jsonapi.document(schemas.numbers(rows, root, links))

    async def associate(request: Request, account: Account) -> Response:
        value, address_id = path_number(request), _address_id(request)
        async with deps.db.transaction() as connection:
            await service.associate(connection, account, value, address_id)
        return jsonapi.no_content()

    async def disconnect(request: Request, account: Account) -> Response:
        value = path_number(request)
        async with deps.db.transaction() as connection:
            await service.disconnect(connection, account, value)
        return jsonapi.no_content()

    return [
        Route("/v2/e911s", authenticated(deps, list_addresses), methods=["GET"]),
        Route("/v2/e911s", authenticated(deps, create), methods=["POST"]),
        Route("/v2/e911s/validate", authenticated(deps, validate), methods=["POST"]),
        Route("/v2/e911s/{e911_id}", authenticated(deps, get_address), methods=["GET"]),
        Route("/v2/e911s/{e911_id}", authenticated(deps, update), methods=["PATCH"]),
        Route("/v2/e911s/{e911_id}", authenticated(deps, delete), methods=["DELETE"]),
        Route("/v2/e911s/{e911_id}/relationships/numbers", authenticated(deps, list_numbers), methods=["GET"]),
        Route("/v2/numbers/{number}/relationships/e911s/{e911_id}", authenticated(deps, associate), methods=["PATCH"]),
        Route("/v2/numbers/{number}/relationships/e911s", authenticated(deps, disconnect), methods=["DELETE"]),
    ]
