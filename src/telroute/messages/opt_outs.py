"""Opt-outs, as carriers keep them: a subscriber whose whole message to one of our numbers is an opt-out
keyword (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT; any case) gets no more messages from that number
until they send an opt-in keyword (START, UNSTOP, YES). Per pair of numbers: other numbers of the account
may still write to them. The keyword messages are stored and called back like any message; `auto_replies.py`
answers them (and HELP) the way carriers do, when automatic replies are on.

A send to an opted-out subscriber is refused like Flowroute refuses it: 400 with error code 1110."""

from __future__ import annotations

import enum

from telroute.errors import BadRequest
from telroute.kit.db import Connection
from telroute.messages import repository

OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN = frozenset({"START", "UNSTOP", "YES"})
OPTED_OUT_CODE = "1110"


class Change(enum.Enum):
    """What an inbound message did to its sender's opt-out."""

    NONE = "none"  # no opt-out or opt-in keyword
    OPTED_OUT = "opted_out"
    STILL_OUT = "still_out"  # an opt-out keyword from a subscriber already opted out
    OPTED_IN = "opted_in"
    STILL_IN = "still_in"  # an opt-in keyword from a subscriber who was not opted out


def keyword_of(body: str | None) -> str | None:
    """The opt-out or opt-in keyword that `body` is, alone; None for anything else (`stop it` is no keyword)."""
    word = (body or "").strip().upper()
    return word if word in OPT_OUT or word in OPT_IN else None


async def note_inbound(connection: Connection, *, ours: str, subscriber: str, body: str | None, now: int) -> Change:
    """Record what an inbound message from `subscriber` to our number `ours` says about opting out."""
    keyword = keyword_of(body)
    params = {"ours": ours, "subscriber": subscriber}
    if keyword in OPT_OUT:
        added = await repository.add_opt_out(connection, **params, now=now)
        return Change.OPTED_OUT if added else Change.STILL_OUT
    if keyword in OPT_IN:
        removed = await repository.remove_opt_out(connection, **params)
        return Change.OPTED_IN if removed else Change.STILL_IN
    return Change.NONE


async def opted_out(connection: Connection, *, ours: str, subscriber: str) -> bool:
    return await repository.opted_out(connection, ours=ours, subscriber=subscriber)


async def refuse_opted_out(
    connection: Connection, *, ours: str, subscriber: str, known: bool | None, pointer: str
) -> None:
    """A 400 for a send to a subscriber who opted out of `ours`. `known`: read a moment ago with the sender
    (`service.check_sender`); None to read it now (after a media fetch, which takes a while)."""
    if known is None:
        known = await opted_out(connection, ours=ours, subscriber=subscriber)
    if known:
        raise BadRequest(
            f"{subscriber} has opted out of messages from {ours} (they sent STOP; START opts them back in)",
            code=OPTED_OUT_CODE,
            pointer=f"{pointer}/to",
        )
