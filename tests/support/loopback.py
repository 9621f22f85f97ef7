"""HTTP clients for the servers tests start: plain HTTP on 127.0.0.1.

httpx builds a TLS context for every client it makes, loading the whole CA bundle each time, even for a
plain-HTTP URL; one throwaway `httpx.get` costs tens of milliseconds of CPU that way, and the suite made
thousands (a sixth of its CPU). Every client made here shares one context, built once per process."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

_TLS = ssl.create_default_context()


def client(**options: Any) -> httpx.Client:
    return httpx.Client(verify=_TLS, **options)


def request(method: str, url: str, **options: Any) -> httpx.Response:
    return httpx.request(method, url, verify=_TLS, **options)


def get(url: str, **options: Any) -> httpx.Response:
    return request("GET", url, **options)


def post(url: str, **options: Any) -> httpx.Response:
    return request("POST", url, **options)


def delete(url: str, **options: Any) -> httpx.Response:
    return request("DELETE", url, **options)
