"""Outbound targets: which URLs are accepted (the address policy is in test_addresses.py)."""

from __future__ import annotations

import pytest

from telroute.errors import BadRequest
from telroute.kit.outbound import MAX_URL_LENGTH, validate_url


@pytest.mark.parametrize(
    "url",
    [
        "https://customer.example/sms",
        "http://customer.example:8080/dlr?account=1&x=%20y",
        "https://[2606:4700:4700::1111]:443/x",
        "http://127.0.0.1:5000/",
        "HTTPS://Customer.Example/Path",
        "https://customer.example/" + "a" * (MAX_URL_LENGTH - len("https://customer.example/")),
    ],
)
def test_good_urls_are_returned_unchanged(url: str) -> None:
    assert validate_url(url, name="callback_url", pointer="/callback_url") == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://customer.example/a\r\nX-Injected: 1", "spaces or control characters"),
        ("https://customer.example/a\nb", "spaces or control characters"),
        ("https://customer.example/a\rb", "spaces or control characters"),
        ("https://customer.example/a b", "spaces or control characters"),
        ("https://customer.example/a\tb", "spaces or control characters"),
        ("https://customer .example/", "spaces or control characters"),
        (" https://customer.example/", "spaces or control characters"),
        ("https://customer.example/\x00", "spaces or control characters"),
        ("https://customer.example/\x7f", "spaces or control characters"),
        ("ftp://customer.example/file", "absolute http or https URL"),
        ("javascript:alert(1)", "absolute http or https URL"),
        ("file:///etc/passwd", "absolute http or https URL"),
        ("/relative/path", "absolute http or https URL"),
        ("customer.example/dlr", "absolute http or https URL"),
        ("http://", "absolute http or https URL"),
        ("http:///path", "absolute http or https URL"),
        ("http://customer.example:99999/", "not a valid URL"),
        ("http://customer.example:port/", "not a valid URL"),
        ("http://[::1/", "not a valid URL"),
        ("https://customer.example/" + "a" * MAX_URL_LENGTH, f"longer than {MAX_URL_LENGTH} characters"),
        ("", "absolute http or https URL"),
    ],
)
def test_bad_urls_are_a_400_with_a_reason(url: str, why: str) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_url(url, name="callback_url", pointer="/callback_url")
    assert caught.value.status == 400
    assert caught.value.detail.startswith("callback_url ")
    assert why in caught.value.detail
    assert caught.value.pointer == "/callback_url"


@pytest.mark.parametrize("raw", [None, 42, ["https://customer.example/"], {"url": "x"}, b"https://customer.example/"])
def test_a_url_must_be_a_string(raw: object) -> None:
    with pytest.raises(BadRequest, match="must be a string URL"):
        validate_url(raw, name="dlr_callback", pointer="/dlr_callback")
