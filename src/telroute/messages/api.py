"""HTTP for /v2.1/messages and /v2.1/media: parse, call the service, render JSON:API.

The message routes take a `views.View`, so that /v2.2/messages (`api_v22.py`) is the same code."""

from __future__ import annotations

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from telroute.accounts.auth import authenticated, require_admin
from telroute.accounts.model import Account
from telroute.bootstrap import Deps
from telroute.errors import BadRequest
from telroute.kit import idempotency, jsonapi
from telroute.kit.addresses import require_reachable
from telroute.kit.clock import format_link_date, parse_date
from telroute.kit.http import read_raw_attributes
from telroute.kit.query import query_params
from telroute.messages import model, opt_outs, replies, schemas, service
from telroute.messages.media import fetch_all
from telroute.messages.send_batches import SendBatches
from telroute.messages.tasks import receive_inbound
from telroute.messages.views import V21, View

_FAR_FUTURE = 2**62
log = structlog.get_logger("telroute.messages")


def _date(request: Request, name: str, *, required: bool) -> int | None:
    raw = query_params(request).get(name)
    if raw is None or raw.strip() == "":
        if required:
            raise BadRequest(f"{name} is required (e.g. {name}=2017-12-01)", parameter=name)
        return None
    try:
        return parse_date(raw)
    except (ValueError, OverflowError) as exc:
        raise BadRequest(f"{name} must be a date (YYYY-MM-DD) or an ISO 8601 date-time", parameter=name) from exc


def _list_links(
    base: str, start: int, end: int | None, page: jsonapi.Page, more: bool, view: View = V21
) -> dict[str, str]:
    def link(offset: int) -> str:
        pairs: list[tuple[str, object]] = [("limit", page.limit), ("start_date", format_link_date(start))]
        if end is not None:
            pairs.append(("end_date", format_link_date(end)))
        return jsonapi.url_with_query(base, f"{view.prefix}/messages", [*pairs, ("offset", offset)])

    links = {"self": link(page.offset)}
    if more:
        links["next"] = link(page.offset + page.limit)
    return links


def message_routes(deps: Deps, view: View) -> list[Route]:
    """Send, list and read MDRs, and read their media, under `view.prefix`."""
    settings = deps.settings
    batches = SendBatches(deps.db, deps.clock)

    async def accept_in_steps(
        request: Request, account: Account, send_request: service.SendRequest, pointer: str
    ) -> tuple[str | None, Response]:
        """A send with media or an Idempotency-Key: a transaction of several statements. The new message's id
        (None for a replayed response) and the response."""
        sender = await service.check_sender(deps.db, account, send_request.from_, send_request.to)
        media = []
        if send_request.media_urls:
            media = await fetch_all(
                deps.http,
                list(send_request.media_urls),
                limit=settings.media_max_bytes,
                timeout=settings.media_timeout,
            )
        async with deps.db.transaction() as connection:
            now = deps.clock()  # read inside: a request that waited for a connection must not look early
            replay = await idempotency.begin(connection, request, account.id, "message", now=now)
            if replay is not None:
                return None, replay
            known = None if media else sender.opted_out
            await opt_outs.refuse_opted_out(
                connection, ours=sender.number, subscriber=send_request.to, known=known, pointer=pointer
            )
            public_id = model.new_message_id()
            response = await idempotency.remember(
                connection, request, account.id, "message", view.accepted(public_id, jsonapi.base_url(request)), 202
            )
            # Last before the commit: the account's rate and message-position rows, whose locks serialize
            # its sends until then, in the order `send_batches` takes them (no deadlock between them).
            await service.take_rate(connection, account, send_request.is_mms, now=deps.clock)
            await service.accept(
                connection,
                account,
                send_request,
                sender.number,
                media,
                public_id,
                prices=settings.prices,
                now=now,
                api_version=view.version,
            )
        return public_id, response

    async def accept_at_once(account: Account, send_request: service.SendRequest, pointer: str) -> str:
        """A send without media or Idempotency-Key: written with the account's sends arriving with it
        (`send_batches`)."""
        sender = service.normalized_sender(send_request.from_)
        public_id = model.new_message_id()
        outcome = await batches.accept(
            account, send_request, sender, public_id, prices=settings.prices, api_version=view.version
        )
        await service.refuse_unless_accepted(deps.db, account, send_request, outcome, pointer=pointer)
        return public_id

    async def send(request: Request, account: Account) -> Response:
        attributes, pointer = await read_raw_attributes(request, settings.max_body_bytes)
        attributes = view.numbers_in(attributes, pointer)
        send_request = service.validate_send(attributes, pointer)
        dlr_pointer = f"{pointer}/dlr_callback"
        require_reachable(send_request.dlr_callback, deps.http.policy, name="dlr_callback", pointer=dlr_pointer)
        if send_request.media_urls or idempotency.requested(request):
            public_id, response = await accept_in_steps(request, account, send_request, pointer)
            if public_id is None:
                return response
        else:
            public_id = await accept_at_once(account, send_request, pointer)
            response = jsonapi.document(view.accepted(public_id, jsonapi.base_url(request)), status=202)
        # The line first: a worker in another process, once woken, may log the message's next step at once.
        log.info("message accepted", message_id=public_id, account=account.access_key, is_mms=send_request.is_mms)
        deps.wakeup.notify()
        return response

    async def list_messages(request: Request, account: Account) -> Response:
        start = _date(request, "start_date", required=True)
        assert start is not None
        end = _date(request, "end_date", required=False)
        if end is not None and end < start:
            raise BadRequest("end_date must not be before start_date", parameter="end_date")
        page = jsonapi.parse_page(request, 100, 1000)
        async with deps.db.snapshot() as connection:
            found, more = await service.page(
                connection,
                account,
                start=start,
                end=_FAR_FUTURE if end is None else end,
                limit=page.limit,
                offset=page.offset,
            )
        items = [view.mdr(schemas.mdr(message, receipts)) for message, receipts in found]
        links = _list_links(jsonapi.base_url(request), start, end, page, more, view)
        return jsonapi.document(schemas.messages_page(items, links))

    async def get_message(request: Request, account: Account) -> Response:
        async with deps.db.snapshot() as connection:
            message, receipts, media = await service.get(connection, account, str(request.path_params["message_id"]))
        base = jsonapi.base_url(request)
        return jsonapi.document(view.message_document(schemas.message_document(message, receipts, media, base), base))

    async def get_media(request: Request, account: Account) -> Response:
        row = await service.media_content(deps.db, account, str(request.path_params["media_id"]))
        disposition = f'inline; filename="{row["file_name"]}"'
        return Response(
            bytes(row["content"]), media_type=row["mime_type"], headers={"Content-Disposition": disposition}
        )

    return [
        Route(f"{view.prefix}/messages", authenticated(deps, send), methods=["POST"]),
        Route(f"{view.prefix}/messages", authenticated(deps, list_messages), methods=["GET"]),
        Route(f"{view.prefix}/messages/{{message_id}}", authenticated(deps, get_message), methods=["GET"]),
        Route(f"{view.prefix}/media/{{media_id}}", authenticated(deps, get_media), methods=["GET"]),
    ]


def routes(deps: Deps) -> list[Route]:
    return message_routes(deps, V21)


def admin_routes(deps: Deps) -> list[Route]:
    """`POST /sandbox/inbound` [ours]: inject an inbound SMS/MMS from the outside world, for tests.

    Protected by the admin token (`Authorization: Bearer ...`); absent when no token is configured, and
    in the production profile, like every /sandbox/ path."""
    if deps.settings.profile != "sandbox":
        return []

    async def inject_inbound(request: Request) -> Response:
        require_admin(request, deps.settings.admin_token)
        attributes, pointer = await read_raw_attributes(request, deps.settings.max_body_bytes)
        async with deps.db.snapshot() as connection:
            answered = await replies.answered(connection, attributes.get("reply_to"), pointer)
        if answered is not None:
            attributes = replies.addressed(attributes, answered, pointer)
        inbound = service.validate_inbound(attributes, pointer)
        public_id = await receive_inbound(deps, inbound, reply_to_id=None if answered is None else answered["id"])
        return jsonapi.document(schemas.accepted(public_id, jsonapi.base_url(request)), status=202)

    return [Route("/sandbox/inbound", inject_inbound, methods=["POST"])]
