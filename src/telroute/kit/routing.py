"""The one mechanism behind every 405: a path belongs to the first route whose template matches it, and
that route's methods (all the methods registered for its template) are the ones allowed.

Starlette answers 405, with `Allow`, when a path matches a route but the method does not. Two steps make
that answer complete and right: routes of one template are served as one (`_SamePath`), so `Allow` names
every method of the path; and a templated route steps aside for a path that an earlier route's template
also matches (`_Yields`), so `POST /v2/numbers/available` is a 405 of the inventory search, not a
purchase of a number called "available".

`IndexedRouter` serves the result: Starlette's answers, with the paths only one route can match found by a
dict lookup (routing `/v2.1/messages` tried some thirty routes before it)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Lifespan, Receive, Scope, Send

_PARAMETER = re.compile(r"\{[^}:]+(:[^}]+)?\}")


class _SamePath:
    """Several routes of one path template (their parameters may be named differently) served as one.
    Each request goes to the route of its method."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        route = next(route for route in self.routes if route.methods and method in route.methods)
        _, child_scope = route.matches(scope)
        scope.update(child_scope)
        scope["route"] = route
        await route.handle(scope, receive, send)


class _Yields(Route):
    """A templated route that does not match a path an earlier route's template matches."""

    def __init__(self, route: Route, earlier: list[Route]) -> None:
        super().__init__(route.path, route.endpoint, methods=sorted(route.methods or ()), name=route.name)
        self.earlier = earlier

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE and any(route.matches(scope)[0] is not Match.NONE for route in self.earlier):
            return Match.NONE, {}
        return match, child_scope


def _template(route: Route) -> str:
    return _PARAMETER.sub(lambda match: "{" + (match.group(1) or ":str") + "}", route.path)


def _one_route_per_path(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    groups: dict[str, list[Route]] = {}
    for route in routes:
        if isinstance(route, Route) and route.methods:
            groups.setdefault(_template(route), []).append(route)
    merged: list[BaseRoute] = []
    for route in routes:
        group = groups.get(_template(route), []) if isinstance(route, Route) and route.methods else []
        if len(group) < 2:
            merged.append(route)
        elif route is group[0]:
            methods = sorted({method for member in group for method in member.methods or ()})
            named = next((member for member in group if "GET" in (member.methods or ())), route)
            merged.append(Route(named.path, _SamePath(group), methods=methods))
    return merged


def _may_overlap(earlier: Route, route: Route) -> bool:
    """Without a `path` parameter, a template matches only paths of its own number of segments."""
    spans_slashes = ":path}" in earlier.path or ":path}" in route.path
    return spans_slashes or earlier.path.count("/") == route.path.count("/")


def _first_template_wins(routes: list[BaseRoute]) -> list[BaseRoute]:
    result: list[BaseRoute] = []
    for index, route in enumerate(routes):
        if not isinstance(route, Route) or not route.param_convertors:
            result.append(route)
            continue
        earlier = [other for other in routes[:index] if isinstance(other, Route) and _may_overlap(other, route)]
        result.append(_Yields(route, earlier) if earlier else route)
    return result


def method_routes(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """The routes as the app serves them: one per template, each path owned by its first template."""
    return _first_template_wins(_one_route_per_path(routes))


class IndexedRouter(Router):
    """Starlette's router, with a shortcut that decides nothing differently: a path that no route but one
    without parameters can match goes straight to that route (a dict lookup) instead of being tried against
    every route before it in order. Every other path is routed as Starlette routes it."""

    def __init__(self, routes: Sequence[BaseRoute], *, lifespan: Lifespan[Any] | None = None) -> None:
        super().__init__(routes, lifespan=lifespan)
        self._sole_route = _sole_routes(self.routes)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        plain = scope["type"] == "http" and not scope.get("root_path")  # else Starlette strips the root path
        route = self._sole_route.get(scope["path"]) if plain else None
        if route is None:
            await super().app(scope, receive, send)
            return
        _, child_scope = route.matches(scope)  # FULL, or PARTIAL when the method is not the route's: a 405
        scope.setdefault("router", self)
        scope["route"] = route
        scope.update(child_scope)
        await route.handle(scope, receive, send)


def _sole_routes(routes: Sequence[BaseRoute]) -> dict[str, BaseRoute]:
    """Each parameterless route's path, when no other route matches that path for any method."""
    sole: dict[str, BaseRoute] = {}
    for route in routes:
        if not isinstance(route, Route) or route.param_convertors:
            continue
        probe: Scope = {"type": "http", "path": route.path, "root_path": "", "method": "GET", "headers": []}
        if [other for other in routes if other.matches(probe)[0] is not Match.NONE] == [route]:
            sole[route.path] = route
    return sole
