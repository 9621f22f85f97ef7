"""HTTP for /v2/numbers and /v2/routes: parse, call the service, render JSON:API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from telroute.accounts.api import callback_type_of, read_callback_url
from telroute.accounts.auth import authenticated
from telroute.accounts.model import Account
from telroute.bootstrap import Deps
from telroute.errors import BadRequest, NotFound
from telroute.kit import idempotency, jsonapi
from telroute.kit.http import parse_json, read_attributes, read_body, read_raw_attributes
from telroute.kit.query import query_params
from telroute.numbers import answers, inputs, model, schemas, service
from telroute.numbers.repository import NumberFilters

_NO_LIMIT = 2**62


def _query(request: Request, name: str) -> str | None:
    value = query_params(request).get(name)
    return None if value is None or value.strip() == "" else value.strip()


def _normalized(request: Request, name: str, normalize: Callable[[str], str]) -> str | None:
    raw = _query(request, name)
    if raw is None:
        return None
    try:
        return normalize(raw)
    except ValueError as exc:
        raise BadRequest(f"{name}: {exc}", parameter=name) from exc


def _digits(name: str) -> Callable[[str], str]:
    return lambda raw: model.normalize_digits(raw, name)


def _state(raw: str) -> str:
    if len(raw) != 2 or not raw.isascii() or not raw.isalpha():
        raise ValueError("must be a two-letter state or province code")
    return raw.lower()


def _rate_center(raw: str) -> str:
    """Letters and digits (imported rate centers such as `nwyrcyzn01` carry digits), any case."""
    if not raw.isascii() or not raw.isalnum() or len(raw) > 32:
        raise ValueError("must be letters and digits only")
    return raw.lower()


def _areacode(raw: str) -> str:
    if len(raw) != 3 or not raw.isascii() or not raw.isdigit() or raw[0] in "01":
        raise ValueError("must be a three-digit NANP area code")
    return raw


def _max_cost(request: Request) -> tuple[int, str | None]:
    raw = _query(request, "max_setup_cost")
    if raw is None:
        return _NO_LIMIT, None
    try:
        return model.parse_dollars(raw), raw
    except ValueError as exc:
        raise BadRequest(f"max_setup_cost: {exc}", parameter="max_setup_cost") from exc


def _path_number(request: Request) -> str:
    raw = str(request.path_params["number"])
    try:
        return model.normalize_number(raw)
    except ValueError as exc:
        raise BadRequest(f"{raw!r} is not a valid phone number: {exc}", parameter="id") from exc


def _digit_filters(request: Request) -> dict[str, str | None]:
    return {
        "starts_with": _normalized(request, "starts_with", model.normalize_starts_with),
        "contains": _normalized(request, "contains", _digits("contains")),
        "ends_with": _normalized(request, "ends_with", _digits("ends_with")),
    }


def _inventory_filters(request: Request) -> dict[str, str | None]:
    echo = _digit_filters(request)
    echo["state"] = _normalized(request, "state", _state)
    echo["rate_center"] = _normalized(request, "rate_center", _rate_center)
    echo["number_type"] = _normalized(request, "number_type", model.normalize_number_type_filter)
    if echo["rate_center"] and not echo["state"]:
        raise BadRequest("rate_center requires state", parameter="rate_center")
    return echo


def _owned_filters(request: Request) -> dict[str, str | None]:
    echo = _digit_filters(request)
    echo["alias"] = _query(request, "alias")
    return echo


def _number_filters(echo: dict[str, str | None]) -> NumberFilters:
    """The repository filters of the normalized (echoed) query; `starts_with` becomes a value range."""
    starts_with = echo.get("starts_with")
    return NumberFilters(
        low=starts_with or "1",
        high=model.prefix_upper_bound(starts_with) if starts_with else "2",
        contains=echo.get("contains"),
        ends_with=echo.get("ends_with"),
        state=echo.get("state"),
        rate_center=echo.get("rate_center"),
        number_type=echo.get("number_type"),
        alias=echo.get("alias"),
    )


def inventory_routes(deps: Deps) -> list[Route]:
    def answer(question: Hashable, render: Callable[[], Awaitable[bytes]]) -> Awaitable[bytes]:
        return answers.answered(deps.inventory_answers, deps.db, question, render)

    async def available(request: Request, account: Account) -> Response:
        page = jsonapi.parse_page(request, 10, 200)
        echo = _inventory_filters(request)
        root = jsonapi.base_url(request)

        async def render() -> bytes:
            rows, more = await service.search_available(deps.db, _number_filters(echo), page)
            items = [schemas.available_number(row, root) for row in rows]
            links = jsonapi.page_links(root, "/v2/numbers/available", echo, page, more)
            return jsonapi.encode(schemas.available_numbers(items, links))

        return jsonapi.document(await answer(("available", root, *echo.items(), page), render))

    async def areacodes(request: Request, account: Account) -> Response:
        page = jsonapi.parse_page(request, 10, 400)
        max_cost, echo_cost = _max_cost(request)
        root = jsonapi.base_url(request)

        async def render() -> bytes:
            found, more = await service.areacodes(deps.db, max_cost, page)
            echo = {"max_setup_cost": echo_cost}
            links = jsonapi.page_links(root, "/v2/numbers/available/areacodes", echo, page, more)
            return jsonapi.encode(schemas.areacodes(found, root, links))

        return jsonapi.document(await answer(("areacodes", root, echo_cost, page), render))

    async def exchanges(request: Request, account: Account) -> Response:
        page = jsonapi.parse_page(request, 10, 200)
        max_cost, echo_cost = _max_cost(request)
        areacode = _normalized(request, "areacode", _areacode)
        root = jsonapi.base_url(request)

        async def render() -> bytes:
            found, more = await service.exchanges(deps.db, areacode, max_cost, page)
            echo = {"areacode": areacode, "max_setup_cost": echo_cost}
            links = jsonapi.page_links(root, "/v2/numbers/available/exchanges", echo, page, more)
            return jsonapi.encode(schemas.exchanges(found, root, links))

        return jsonapi.document(await answer(("exchanges", root, areacode, echo_cost, page), render))

    return [
        Route("/v2/numbers/available", authenticated(deps, available), methods=["GET"]),
        Route("/v2/numbers/available/areacodes", authenticated(deps, areacodes), methods=["GET"]),
        Route("/v2/numbers/available/exchanges", authenticated(deps, exchanges), methods=["GET"]),
    ]


def owned_routes(deps: Deps) -> list[Route]:
    async def list_numbers(request: Request, account: Account) -> Response:
        page = jsonapi.parse_page(request, 10, 200)
        echo = _owned_filters(request)
        rows, more = await service.search_owned(deps.db, account, _number_filters(echo), page)
        root = jsonapi.base_url(request)
        items = [schemas.owned_number(row, root) for row in rows]
        links = jsonapi.page_links(root, "/v2/numbers", echo, page, more)
        return jsonapi.document(schemas.owned_numbers(items, links))

    async def get_number(request: Request, account: Account) -> Response:
        row, routes = await service.detail(deps.db, account, _path_number(request))
        return jsonapi.document(schemas.number_detail(row, routes, jsonapi.base_url(request)))

    async def purchase(request: Request, account: Account) -> Response:
        value = _path_number(request)
        body = await read_attributes(request, inputs.PurchaseBody, allow_empty=True)
        async with deps.db.transaction() as connection:
            replay = await idempotency.begin(connection, request, account.id, "purchase", now=deps.clock())
            if replay is not None:
                return replay
            row, routes = await service.purchase(connection, account, value, body, now=deps.clock())
            document = schemas.number_detail(row, routes, jsonapi.base_url(request))
            return await idempotency.remember(connection, request, account.id, "purchase", document, 201)

    async def release(request: Request, account: Account) -> Response:
        value = _path_number(request)
        async with deps.db.transaction() as connection:
            await service.release(connection, account, value)
        return jsonapi.no_content()

    async def patch(request: Request, account: Account) -> Response:
        value = _path_number(request)
        body = inputs.number_patch(*await read_raw_attributes(request))
        async with deps.db.transaction() as connection:
            row, routes = await service.update(connection, account, value, body)
        return jsonapi.document(schemas.number_detail(row, routes, jsonapi.base_url(request)))

    async def set_route(request: Request, account: Account) -> Response:
        value = _path_number(request)
        kind = str(request.path_params["kind"])
        if kind not in service.ROUTE_KINDS:
            raise NotFound(f"no such relationship: {kind}_route")
        route_id = inputs.route_id(parse_json(await read_body(request)))
        async with deps.db.transaction() as connection:
            await service.set_number_route(connection, account, value, kind, route_id)
        return jsonapi.no_content()

    async def set_callback(request: Request, account: Account) -> Response:
        value = _path_number(request)
        callback_type = callback_type_of(request)
        url = await read_callback_url(request, deps.http.policy)
        async with deps.db.transaction() as connection:
            await service.set_number_callback(connection, account, value, callback_type, url)
        return jsonapi.no_content()

    callback = authenticated(deps, set_callback)
    return [
        Route("/v2/numbers", authenticated(deps, list_numbers), methods=["GET"]),
        Route("/v2/numbers/{number}", authenticated(deps, get_number), methods=["GET"]),
        Route("/v2/numbers/{number}", authenticated(deps, purchase), methods=["POST"]),
        Route("/v2/numbers/{number}", authenticated(deps, release), methods=["DELETE"]),
        Route("/v2/numbers/{number}", authenticated(deps, patch), methods=["PATCH"]),
        Route(
            "/v2/numbers/{number}/relationships/{kind:str}_route",
            authenticated(deps, set_route),
            methods=["PATCH"],
        ),
        Route(
            "/v2/numbers/{number}/relationships/{callback_type}",
            callback,
            methods=["POST", "PUT", "PATCH"],
        ),
    ]


def route_routes(deps: Deps) -> list[Route]:
    async def list_routes(request: Request, account: Account) -> Response:
        page = jsonapi.parse_page(request, 10, 200)
        route_type = _query(request, "route_type")
        rows, more = await service.list_routes(deps.db, account, route_type, page)
        root = jsonapi.base_url(request)
        items = [schemas.route(row, root) for row in rows]
        links = jsonapi.page_links(root, "/v2/routes", {"route_type": route_type}, page, more)
        return jsonapi.document(schemas.routes_page(items, links))

    async def create_route(request: Request, account: Account) -> Response:
        body = inputs.new_route(*await read_raw_attributes(request))
        async with deps.db.transaction() as connection:
            row = await service.create_route(connection, account, body, now=deps.clock())
        return jsonapi.document(schemas.route_document(row, jsonapi.base_url(request)), status=201)

    async def get_route(request: Request, account: Account) -> Response:
        raw = str(request.path_params["route_id"])
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise NotFound(f"route {raw} was not found on this account")
        row = await service.get_route(deps.db, account, int(raw))
        return jsonapi.document(schemas.route_document(row, jsonapi.base_url(request)))

    async def edge_strategies(request: Request, account: Account) -> Response:
        return jsonapi.document(schemas.edge_strategies())

    return [
        Route("/v2/routes", authenticated(deps, list_routes), methods=["GET"]),
        Route("/v2/routes", authenticated(deps, create_route), methods=["POST"]),
        Route("/v2/routes/edge_strategies", authenticated(deps, edge_strategies), methods=["GET"]),
        Route("/v2/routes/{route_id}", authenticated(deps, get_route), methods=["GET"]),
    ]


def routes(deps: Deps) -> list[Route]:
    return [*inventory_routes(deps), *owned_routes(deps), *route_routes(deps)]
