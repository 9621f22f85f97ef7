"""The address policy: which addresses callbacks and media fetches may reach, and which URLs are
refused from their host alone (every spelling of an address literal, loopback names)."""

from __future__ import annotations

import pytest

from telroute.errors import Unprocessable
from telroute.kit.addresses import AddressPolicy, literal_addresses, literal_refusal, require_reachable
from telroute.kit.outbound import TargetRefused, check_literal

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
    "fd00::1",
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
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
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
    "64:ff9b::808:808",  # NAT64 of 8.8.8.8
]
STRICT = AddressPolicy()


@pytest.mark.parametrize("address", PRIVATE)
def test_private_addresses_are_refused_by_default_and_allowed_when_private_targets_are(address: str) -> None:
    assert STRICT.permits(address) is False
    assert AddressPolicy(allow_private=True).permits(address) is True


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_always_permitted(address: str) -> None:
    assert STRICT.permits(address) is True


def test_an_allowed_network_opens_that_network_only() -> None:
    policy = AddressPolicy.of(False, ["10.20.0.0/16", "fd00:1::/64"])
    assert policy.permits("10.20.3.4")
    assert policy.permits("::ffff:10.20.3.4")  # the same IPv4, mapped
    assert policy.permits("fd00:1::9")
    assert not policy.permits("10.21.0.1")
    assert not policy.permits("127.0.0.1")
    assert not policy.permits("169.254.169.254")
    assert not policy.permits("fd00:2::1")
    assert policy.describe() == "public addresses and 10.20.0.0/16, fd00:1::/64"


@pytest.mark.parametrize("cidr", ["10.20.0.1/16", "10.0.0.0/33", "not-a-network", ""])
def test_a_malformed_network_is_refused(cidr: str) -> None:
    with pytest.raises(ValueError):
        AddressPolicy.of(False, [cidr])


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),  # one decimal number
        ("0x7f000001", "127.0.0.1"),  # one hexadecimal number
        ("0177.0.0.1", "127.0.0.1"),  # octal
        ("0177.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),  # two parts
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("10.1", "10.0.0.1"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("[fd00::5]", "fd00::5"),
        ("fe80::1%eth0", "fe80::1"),
        ("127.0.0.1.", "127.0.0.1"),  # a trailing dot is the same host
    ],
)
def test_every_spelling_of_an_address_literal_is_recognised(host: str, address: str) -> None:
    assert [str(found) for found in literal_addresses(host)] == [address]


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "localhost.", "app.localhost", "a.b.localhost"])
def test_loopback_names_stand_for_loopback(host: str) -> None:
    assert {str(found) for found in literal_addresses(host)} == {"127.0.0.1", "::1"}


@pytest.mark.parametrize(
    "host", ["hooks.example.com", "localhost.example.com", "decaf.example", "0x7f.example", "beef"]
)
def test_ordinary_names_are_left_to_the_resolver(host: str) -> None:
    assert literal_addresses(host) == ()


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
        "http://2130706433/",
        "http://0177.0.0.1:9000/",
        "http://0x7f.1/",
        "http://localhost:3000/",
        "http://api.localhost/",
    ],
)
def test_a_private_literal_url_is_refused_unless_allowed(url: str) -> None:
    with pytest.raises(TargetRefused, match="private, loopback or link-local"):
        check_literal(url, STRICT)
    check_literal(url, AddressPolicy(allow_private=True))
    with pytest.raises(Unprocessable) as caught:
        require_reachable(url, STRICT, name="callback_url", pointer="/callback_url")
    assert caught.value.status == 422
    assert caught.value.pointer == "/callback_url"
    assert caught.value.detail.startswith("callback_url is not allowed: ")


@pytest.mark.parametrize(
    "url", ["http://8.8.8.8/hook", "https://[2606:4700:4700::1111]/", "https://hooks.example.com/x"]
)
def test_public_literals_and_names_pass_the_literal_check(url: str) -> None:
    """Names are not judged here: the resolver judges the addresses a name resolves to."""
    assert literal_refusal(url, STRICT) is None
    assert require_reachable(url, STRICT, name="dlr_callback", pointer="/dlr_callback") == url


def test_an_allowed_network_lets_its_literals_through() -> None:
    policy = AddressPolicy.of(False, ["127.0.0.0/8"])
    assert literal_refusal("http://127.0.0.1:9000/dlr", policy) is None
    assert literal_refusal("http://2130706433/", policy) is None
    assert literal_refusal("http://10.0.0.1/", policy) is not None
    # localhost also means ::1, which the allowed network does not cover
    assert literal_refusal("http://localhost/", policy) is not None
