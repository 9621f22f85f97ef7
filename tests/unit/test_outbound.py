"""Outbound targets: which URLs are accepted, and which addresses count as private."""

from __future__ import annotations

import pytest

from telroute.errors import BadRequest
from telroute.kit.outbound import MAX_URL_LENGTH, TargetRefused, check_literal, is_public, validate_url

PRIVATE = [
    "127.0.0.1",  # loopback
    "127.255.255.254",
    "10.0.0.1",  # 10/8
    "10.255.255.255",
    "172.16.0.1",  # 172.16/12
    "172.31.255.254",
    "192.168.0.1",  # 192.168/16
    "192.168.255.255",
    "169.254.169.254",  # link-local (cloud metadata)
    "169.254.0.1",
    "100.64.0.1",  # carrier-grade NAT 100.64/10
    "100.100.100.200",  # a cloud metadata service inside it
    "0.0.0.0",  # unspecified
    "255.255.255.255",  # broadcast
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "::1",  # IPv6 loopback
    "::",  # IPv6 unspecified
    "fc00::1",  # unique local fc00::/7
    "fdff:ffff::1",
    "fe80::1",  # link-local fe80::/10
    "febf:ffff::1",
    "fe80::1%eth0",  # with a zone
    "::ffff:127.0.0.1",  # IPv4-mapped IPv6
    "::ffff:10.1.2.3",
    "::ffff:169.254.169.254",
    "::ffff:0.0.0.0",
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a00:1::",  # 6to4 of 10.0.0.1
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "ff02::1",  # IPv6 multicast
]
PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",  # just outside 172.16/12
    "172.15.255.255",
    "100.128.0.1",  # just outside 100.64/10
    "11.0.0.1",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "2002:808:808::",  # 6to4 of 8.8.8.8
]


@pytest.mark.parametrize("address", PRIVATE)
def test_private_addresses_are_not_public(address: str) -> None:
    assert is_public(address) is False


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_public(address: str) -> None:
    assert is_public(address) is True


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.0.0.1:8080/hook",
        "https://10.0.0.1/",
        "http://[::1]:9000/hook",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd00::5]/",
        "http://0.0.0.0:80/",
        "http://169.254.169.254/latest/meta-data/",
        "http://user:pass@192.168.1.1/",
    ],
)
def test_a_private_ip_literal_is_refused_unless_allowed(url: str) -> None:
    with pytest.raises(TargetRefused, match="private, loopback or link-local"):
        check_literal(url, allow_private=False)
    check_literal(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    ["http://8.8.8.8/hook", "https://[2606:4700:4700::1111]/", "https://hooks.example.com/x", "http://localhost/"],
)
def test_public_literals_and_names_pass_the_literal_check(url: str) -> None:
    """Names are not judged here: the resolver judges the addresses a name resolves to."""
    check_literal(url, allow_private=False)


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
