"""HTTP for /v2/cnams and a number's CNAM relationship (both the Python SDK's `cnam` and the Node SDK's
`cnams` spelling of the relationship path)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from telroute.accounts.auth import authenticated
from telroute.accounts.model import Account
from telroute.bootstrap import Deps
from telroute.cnam import model, schemas, service
from telroute.cnam.body import read_preset
from telroute.errors import BadRequest
from telroute.kit import jsonapi
from telroute.kit.paths import path_id
from telroute.kit.query import query_params
from telroute.numbers.paths import path_number

RELATIONSHIP_SPELLINGS = ("cnam", "cnams")
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


def _approved_filter(request: Request) -> bool | None:
    """`true`/`false` in any case (the Python SDK sends `True`), or 1/0; absent or empty: no filter."""
    raw = query_params(request).get("is_approved", "").strip().lower()
    if not raw:
        return None
    if raw in _TRUE or raw in _FALSE:
        return raw in _TRUE
    raise BadRequest("is_approved must be true or false", parameter="is_approved")


def _preset_id(request: Request) -> int:
    return path_id(request, "cnam_id", "CNAM preset")


def routes(deps: Deps) -> list[Route]:
    approval = model.approval_of(deps.settings.profile, deps.settings.cnam_approval_delay)

    async def list_presets(request: Request, account: Account) -> Response:
        page = jsonapi.parse_page(request, 10, 200)
        approved = _approved_filter(request)
        now = deps.clock()
        rows, more = await service.page(deps.db, account, approved, page, approval=approval, now=now)
        root = jsonapi.base_url(request)
        echo = {"is_approved": None if approved is None else str(approved).lower()}
        links = jsonapi.page_links(root, "/v2/cnams", echo, page, more)
        return jsonapi.document(schemas.presets(rows, approval, now, root, links))

    async def get_preset(request: Request, account: Account) -> Response:
        row = await service.get(deps.db, account, _preset_id(request))
        return jsonapi.document(schemas.preset_document(row, approval, deps.clock(), jsonapi.base_url(request)))

    async def create(request: Request, account: Account) -> Response:
        body, pointer = await read_preset(request)
        now = deps.clock()
        async with deps.db.transaction() as connection:
            row = await service.create(connection, account, body.value, pointer=pointer, now=now)
        return jsonapi.document(schemas.preset_document(row, approval, now, jsonapi.base_url(request)), status=201)

    async def delete(request: Request, account: Account) -> Response:
        preset_id = _preset_id(request)
        async with deps.db.transaction() as connection:
            await service.delete(connection, account, preset_id)
        return jsonapi.no_content()

    async def associate(request: Request, account: Account) -> Response:
        value, preset_id, now = path_number(request), _preset_id(request), deps.clock()
        async with deps.db.transaction() as connection:
            await service.associate(connection, account, value, preset_id, approval=approval, now=now)
        return jsonapi.document(schemas.assignment(preset_id, now), status=202)

    async def unassociate(request: Request, account: Account) -> Response:
        value, now = path_number(request), deps.clock()
        async with deps.db.transaction() as connection:
            await service.unassociate(connection, account, value)
        return jsonapi.document(schemas.assignment(None, now), status=202)

    relationships = [
        route
        for spelling in RELATIONSHIP_SPELLINGS
        for route in (
            Route(f"/v2/numbers/{{number}}/relationships/{spelling}/{{cnam_id}}", authenticated(deps, associate),
                  methods=["PATCH"]),
            Route(f"/v2/numbers/{{number}}/relationships/{spelling}", authenticated(deps, unassociate),
                  methods=["DELETE"]),
        )
    ]  # fmt: skip
    return [
        Route("/v2/cnams", authenticated(deps, list_presets), methods=["GET"]),
        Route("/v2/cnams", authenticated(deps, create), methods=["POST"]),
        Route("/v2/cnams/{cnam_id}", authenticated(deps, get_preset), methods=["GET"]),
        Route("/v2/cnams/{cnam_id}", authenticated(deps, delete), methods=["DELETE"]),
        *relationships,
    ]
