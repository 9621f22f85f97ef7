"""Automatic replies, as carriers send them: an inbound HELP or INFO is answered with the deployment's help
text, an opt-out (STOP, ...) that opts the subscriber out with one confirmation, and an opt-in (START, ...)
that lifts an opt-out with another. Each reply is an ordinary outbound message of the account that owns the
number, from that number: queued, delivered, receipted and called back like any message. Nothing goes to an
opted-out subscriber but the confirmation of their STOP; a STOP while opted out, or a YES that lifted
nothing, gets no reply.

On by default in the sandbox; off in production, where the upstream carrier sends these replies itself
(TELROUTE_AUTO_REPLIES turns them on or off; TELROUTE_HELP_REPLY, TELROUTE_STOP_REPLY and
TELROUTE_START_REPLY are the texts, in which `{account}` stands for the account's name)."""

from __future__ import annotations

from dataclasses import dataclass

from telroute.accounts import repository as accounts_repository
from telroute.config import Prices, Settings
from telroute.kit.db import Connection
from telroute.messages import model, opt_outs, service

HELP = frozenset({"HELP", "INFO"})
ACCOUNT = "{account}"


@dataclass(frozen=True, slots=True)
class AutoReplies:
    help: str
    stop: str
    start: str

    def text(self, keyword: str, change: opt_outs.Change) -> str | None:
        """The reply to `keyword` (an inbound message's whole text, upper case) after `change`; None: none."""
        if keyword in HELP:
            return self.help
        return {opt_outs.Change.OPTED_OUT: self.stop, opt_outs.Change.OPTED_IN: self.start}.get(change)


def of(settings: Settings) -> AutoReplies | None:
    """The deployment's automatic replies; None when they are off."""
    if not settings.auto_replies_on:
        return None
    return AutoReplies(settings.help_reply, settings.stop_reply, settings.start_reply)


def _is_keyword(text: str) -> bool:
    """A reply that is itself a keyword would be answered in turn (on-net, by another account): never sent."""
    return text.strip().upper() in HELP or opt_outs.keyword_of(text) is not None


async def answer(
    connection: Connection,
    replies: AutoReplies,
    *,
    account_id: int,
    ours: str,
    subscriber: str,
    body: str | None,
    change: opt_outs.Change,
    prices: Prices,
    now: int,
) -> str | None:
    """Queue the automatic reply to an inbound `body` from `subscriber` to our number `ours`; its id."""
    keyword = (body or "").strip().upper()
    template = replies.text(keyword, change)
    if template is None or (keyword in HELP and await opt_outs.opted_out(connection, ours=ours, subscriber=subscriber)):
        return None
    account = await accounts_repository.by_id(connection, account_id)
    if account is None:
        return None
    text = template.replace(ACCOUNT, account.name)[: model.MAX_BODY_CHARACTERS]
    if _is_keyword(text):
        return None
    public_id = model.new_message_id()
    request = service.SendRequest(subscriber, ours, text, False, (), None)
    await service.accept(connection, account, request, ours, [], public_id, prices=prices, now=now)
    return public_id
