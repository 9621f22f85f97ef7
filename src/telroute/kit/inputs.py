"""Typed request attributes whose errors stay those of their ordered rules.

A body's attributes are converted strictly (no coercion, unless `strict=False`) into an input Struct whose
field types and `Meta` say what is accepted, and which the OpenAPI document describes. msgspec reports the
first bad field in the order the client sent them, always as a 400; the API promises the first bad field
in a fixed order, some as 422. So when msgspec refuses the attributes, the resource's ordered rules run
over the raw values first and raise the error they always raised; msgspec's own message is the last
resort, for a refusal the rules do not know."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, TypeVar

import msgspec

from telroute.kit.http import refusal

S = TypeVar("S", bound=msgspec.Struct)


@cache
def _wire_names(target: type[msgspec.Struct]) -> dict[str, str]:
    return dict(zip(target.__struct_fields__, target.__struct_encode_fields__, strict=True))


class Unchecked:
    """Raw attributes read by the Struct's field names (`from_` reads `from`); absent fields read None."""

    __slots__ = ("_attributes", "_names")

    def __init__(self, attributes: Mapping[str, object], target: type[msgspec.Struct]) -> None:
        self._attributes = attributes
        self._names = _wire_names(target)

    def __getattr__(self, name: str) -> object:
        return self._attributes.get(self._names[name])


def typed(
    attributes: Mapping[str, Any],
    target: type[S],
    pointer: str,
    *,
    rules: Callable[[Any], object],
    strict: bool = True,
) -> S:
    """`attributes` as `target`; when refused, `rules(Unchecked(...))` raises the error the client gets.
    `strict=False` converts as `kit.http.convert` does (`"true"` to a boolean, `"5"` to a number)."""
    try:
        return msgspec.convert(attributes, type=target, strict=strict)
    except msgspec.ValidationError as exc:
        rules(Unchecked(attributes, target))
        raise refusal(exc, pointer) from exc
