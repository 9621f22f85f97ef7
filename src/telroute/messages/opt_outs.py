"""Opt-outs, as carriers keep them: a subscriber whose whole message to one of our numbers is an opt-out
keyword (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT; any case) gets no more messages from that number
until they send an opt-in keyword (START, UNSTOP, YES). Per pair of numbers: other numbers of the account
may still write to them. HELP and INFO are stored and called back like any message; the app answers them.

A send to an opted-out subscriber is refused like Flowroute refuses it: 400 with error code 1110."""

from __future__ import annotations

from telroute.errors import BadRequest
from telroute.kit.db import Connection, sql

OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN = frozenset({"START", "UNSTOP", "YES"})
OPTED_OUT_CODE = "1110"

_ADD = sql(
    """INSERT INTO opt_outs (our_number, subscriber, created_at_us) VALUES (:ours, :subscriber, :now)
       ON CONFLICT (our_number, subscriber) DO NOTHING"""
)
_REMOVE = sql("DELETE FROM opt_outs WHERE our_number = :ours AND subscriber = :subscriber")
_FIND = sql("SELECT 1 AS found FROM opt_outs WHERE our_number = :ours AND subscriber = :subscriber")


def keyword_of(body: str | None) -> str | None:
    """The opt-out or opt-in keyword that `body` is, alone; None for anything else (`stop it` is no keyword)."""
    word = (body or "").strip().upper()
    return word if word in OPT_OUT or word in OPT_IN else None


async def note_inbound(connection: Connection, *, ours: str, subscriber: str, body: str | None, now: int) -> None:
    """Record what an inbound message from `subscriber` to our number `ours` says about opting out."""
    keyword = keyword_of(body)
    params = {"ours": ours, "subscriber": subscriber}
    if keyword in OPT_OUT:
        await connection.execute(_ADD, {**params, "now": now})
    elif keyword in OPT_IN:
        await connection.execute(_REMOVE, params)


async def refuse_opted_out(connection: Connection, *, ours: str, subscriber: str, pointer: str) -> None:
    if await connection.fetchrow(_FIND, {"ours": ours, "subscriber": subscriber}) is not None:
        raise BadRequest(
            f"{subscriber} has opted out of messages from {ours} (they sent STOP; START opts them back in)",
            code=OPTED_OUT_CODE,
            pointer=f"{pointer}/to",
        )
