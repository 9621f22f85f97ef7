"""HTTP for sandbox faults on demand (sandbox profile only; account credentials, each account sees only its
own rules): `POST /sandbox/faults`, `GET /sandbox/faults`, `DELETE /sandbox/faults/{id}`."""

from __future__ import annotations

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from telroute.accounts.auth import authenticated
from telroute.accounts.model import Account
from telroute.bootstrap import Deps
from telroute.kit import jsonapi
from telroute.kit.http import attributes_of, parse_json, read_body
from telroute.sandbox_tools import faults_service
from telroute.sandbox_tools.api_faults import api_rules_changed
from telroute.sandbox_tools.fault_request import read_rule
from telroute.sandbox_tools.schemas import SandboxFaultDocument, SandboxFaults, fault_record

log = structlog.get_logger("telroute.sandbox")


def routes(deps: Deps) -> list[Route]:
    if deps.settings.profile != "sandbox":
        return []

    async def create(request: Request, account: Account) -> Response:
        raw = await read_body(request, deps.settings.max_body_bytes)
        attributes, pointer = attributes_of(parse_json(raw))
        now = deps.clock()
        rule = read_rule(attributes, now=now, pointer=pointer)
        async with deps.db.transaction() as connection:
            row = await faults_service.create(connection, account, rule, now=now)
        api_rules_changed(deps)
        log.info("sandbox fault rule created", account=account.access_key, kind=rule.kind, match=rule.match)
        return jsonapi.document(SandboxFaultDocument(fault_record(row, jsonapi.base_url(request))), status=201)

    async def list_faults(request: Request, account: Account) -> Response:
        async with deps.db.snapshot() as connection:
            rows = await faults_service.of_account(connection, account)
        base = jsonapi.base_url(request)
        return jsonapi.document(SandboxFaults([fault_record(row, base) for row in rows]))

    async def delete(request: Request, account: Account) -> Response:
        async with deps.db.transaction() as connection:
            await faults_service.delete(connection, account, str(request.path_params["fault_id"]))
        api_rules_changed(deps)
        return jsonapi.no_content()

    return [
        Route("/sandbox/faults", authenticated(deps, create), methods=["POST"]),
        Route("/sandbox/faults", authenticated(deps, list_faults), methods=["GET"]),
        Route("/sandbox/faults/{fault_id}", authenticated(deps, delete), methods=["DELETE"]),
    ]
