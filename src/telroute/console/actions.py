"""What the console does on an account's behalf: send a message from an owned number (the same path
as `POST /v2.1/messages`, SMS only) and, in the sandbox, simulate an inbound message to one."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from telroute.accounts.model import Account
from telroute.bootstrap import Deps
from telroute.console import repository
from telroute.errors import BadRequest, NotFound
from telroute.kit.http import parse_json, read_body
from telroute.messages import model, opt_outs
from telroute.messages import service as messages_service
from telroute.messages.tasks import receive_inbound


async def _attributes(request: Request) -> dict[str, Any]:
    raw = parse_json(await read_body(request, 16_384))
    if not isinstance(raw, dict):
        raise BadRequest("the body must be a JSON object", pointer="")
    raw.pop("is_mms", None)
    raw.pop("media_urls", None)
    return raw


async def send(deps: Deps, request: Request, account: Account) -> dict[str, Any]:
    send_request = messages_service.validate_send(await _attributes(request), "")
    sender = await messages_service.check_sender(deps.db, account, send_request.from_, send_request.to)
    await opt_outs.refuse_opted_out(
        deps.db, ours=sender.number, subscriber=send_request.to, known=sender.opted_out, pointer=""
    )
    public_id = model.new_message_id()
    async with deps.db.transaction() as connection:
        now = deps.clock()
        await messages_service.accept(
            connection, account, send_request, sender.number, [], public_id, prices=deps.settings.prices, now=now
        )
        await messages_service.take_rate(connection, account, False, now=deps.clock)
    deps.wakeup.notify()
    return {"id": public_id}


async def simulate_inbound(deps: Deps, request: Request, account: Account) -> dict[str, Any]:
    """An SMS from `from` to one of the account's numbers, as if a handset sent it (sandbox only)."""
    if deps.settings.profile != "sandbox":
        raise NotFound("inbound messages are simulated in the sandbox only")
    inbound = messages_service.validate_inbound(await _attributes(request), "")
    if not await repository.owns_number(deps.db, account.id, "".join(c for c in inbound.to_number if c.isdigit())):
        raise NotFound(f"{inbound.to_number} is not a number of this account", parameter="to")
    return {"id": await receive_inbound(deps, inbound)}
