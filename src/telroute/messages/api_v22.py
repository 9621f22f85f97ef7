"""HTTP for /v2.2/messages: the v2.1 routes through the E.164 view, and v2.2's callback settings.

v2.2 documents four account-level callback types (no deprecated `dlr_callback`), set with PUT; they are
the same settings as v2.1's, except that inbound callbacks to a URL set here speak v2.2."""

from __future__ import annotations

from starlette.routing import Route

from telroute.accounts.api import callback_route
from telroute.bootstrap import Deps
from telroute.messages.api import message_routes
from telroute.messages.views import V22

CALLBACK_TYPES = ("sms_callback", "mms_callback", "sms_dlr_callback", "mms_dlr_callback")


def routes(deps: Deps) -> list[Route]:
    callbacks = callback_route(deps, f"{V22.prefix}/messages/{{callback_type}}", CALLBACK_TYPES, ["PUT"], V22.version)
    return [*message_routes(deps, V22), callbacks]
