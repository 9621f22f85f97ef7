"""The document and the routes agree both ways, for the worker's operational port too, and every
contributor's paths and components reach the document."""

from __future__ import annotations

import re

from starlette.routing import Route

from telroute import openapi
from telroute.app import create_ops_app
from telroute.bootstrap import Deps
from telroute.config import Settings


def _served(deps: Deps) -> set[tuple[str, str]]:
    found = set()
    for route in create_ops_app(deps).routes:
        assert isinstance(route, Route), route
        for method in route.methods or ():
            if method != "HEAD":
                found.add((route.path, method.lower()))
    return found


def test_the_worker_port_serves_exactly_the_documented_operational_paths_but_the_document() -> None:
    deps = Deps(settings=Settings(), db=None, clock=lambda: 0, http=None)  # type: ignore[arg-type]
    paths = openapi.document()["paths"]
    operational = {
        (template, method)
        for template, item in paths.items()
        for method, spec in item.items()
        if isinstance(spec, dict) and "operations" in spec.get("tags", ()) and template != "/openapi.json"
    }
    assert _served(deps) == operational


def test_every_contributor_reaches_the_document() -> None:
    document = openapi.document()
    for contributor in openapi.CONTRIBUTORS:
        for template, item in contributor.paths().items():
            assert set(item) <= set(document["paths"][template]), template
        assert set(contributor.schemas()) <= set(document["components"]["schemas"]), contributor


def test_every_reference_of_the_document_resolves() -> None:
    document = openapi.document()
    text = repr(document)
    for kind, name in set(re.findall(r"#/components/(schemas|responses)/([A-Za-z0-9_]+)", text)):
        assert name in document["components"][kind], (kind, name)
