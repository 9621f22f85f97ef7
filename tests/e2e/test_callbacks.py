"""Callbacks over real sockets: the exact DLR and inbound payloads of the contract (§4), where each
callback goes (message > number > account), and Standard Webhooks signatures checked by a verifier
we did not write (the `standardwebhooks` package)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.support import loopback
from tests.support.isolated import Deployment, deployment
from tests.support.messaging import buy_number, send, sent_id, wait_for_status
from tests.support.receiver import Receiver, Recorded
from tests.support.server import Server

FAST = {"TELROUTE_WEBHOOK_BACKOFF": "0.2,0.2,0.2,0.2,0.2", "TELROUTE_SIMULATOR_RECEIPT_DELAY": "0.2"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\dZ$")
MEDIA_ID = re.compile(r"^\d{18}-[A-Za-z0-9._-]+$")
GIF = (  # a 1x1 transparent GIF
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
Keys = tuple[str, str]


@dataclass
class Site:
    deployment: Deployment
    server: Server
    receiver: Receiver

    def account(self, name: str) -> tuple[Keys, httpx.Client]:
        keys = self.deployment.new_account(name, sms_per_second=100, mms_per_second=100)
        return keys, self.server.client(keys)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("callbacks")
    with deployment(data_dir) as deployed, Receiver() as receiver:
        server = deployed.server(**FAST).start()
        try:
            yield Site(deployed, server, receiver)
        finally:
            server.terminate()


@pytest.fixture
def path(request: pytest.FixtureRequest) -> str:
    """A receiver path of this test's own, so tests never see each other's callbacks."""
    return "/" + str(request.node.name).replace("[", "-").replace("]", "")


def typed(value: Any) -> Any:
    """The JSON value with every scalar paired with its type: `0 == False` and `1 == 1.0` must not pass."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


def assert_json_equal(actual: Any, expected: Any) -> None:
    assert typed(actual) == typed(expected)


def put_account_callback(client: httpx.Client, callback_type: str, url: str | None, version: str = "2.1") -> None:
    response = client.put(f"/v{version}/messages/{callback_type}", json={"callback_url": url})
    assert response.status_code == 204, response.text


def set_number_callback(client: httpx.Client, number: str, callback_type: str, url: str | None) -> None:
    body = {"data": {"attributes": {"callback_url": url}}}
    response = client.post(f"/v2/numbers/{number}/relationships/{callback_type}", json=body)
    assert response.status_code == 204, response.text


def mdr(client: httpx.Client, message_id: str, version: str = "2.1") -> dict[str, Any]:
    response = client.get(f"/v{version}/messages/{message_id}")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def by_level(callbacks: list[Recorded]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for callback in callbacks:
        document = callback.json()
        level = document["data"]["attributes"]["level"]
        assert level not in found, f"two level-{level} callbacks: {callbacks!r}"
        found[level] = document
    return found


def expected_dlr(server: Server, message_id: str, body: str, receipt: dict[str, Any]) -> dict[str, Any]:
    code = receipt["status_code"]
    return {
        "data": {
            "type": "delivery_receipt",
            "id": message_id,
            "attributes": {
                "body": body,
                "level": receipt["level"],
                "status": receipt["status"],
                "status_code": None if code is None else str(code),
                "status_code_description": receipt["status_code_description"],
                "timestamp": receipt["timestamp"],
            },
            "links": {"related": f"{server.url}/v2.1/messages/{message_id}"},
        }
    }


def assert_plain_json_post(callback: Recorded) -> None:
    assert callback.method == "POST"
    assert callback.headers["content-type"] == "application/json"
    assert not {"webhook-timestamp", "webhook-signature"} & set(callback.headers)
    assert callback.headers["webhook-id"].startswith("msg_")  # the idempotency key, signed or not


# delivery receipts


def test_dlr_payloads_at_level_1_and_2_are_exact(site: Site, path: str) -> None:
    _, client = site.account("dlr")
    with client:
        number = buy_number(client, starts_with="206")
        put_account_callback(client, "sms_dlr_callback", site.receiver.url(path))
        message_id = sent_id(send(client, from_=number, to="12065550199", body="Hello DLR"))
        callbacks = site.receiver.wait_for(2, path=path)
        attributes = wait_for_status(client, message_id, "delivered", receipts=2)
    level_2, level_1 = attributes["delivery_receipts"]
    documents = by_level(callbacks)
    assert_json_equal(documents[1], expected_dlr(site.server, message_id, "Hello DLR", level_1))
    assert_json_equal(documents[2], expected_dlr(site.server, message_id, "Hello DLR", level_2))
    # the contract's literal values, not only what the MDR says
    assert documents[1]["data"]["attributes"]["status"] == "smsc submit"
    assert documents[1]["data"]["attributes"]["status_code"] is None
    assert documents[1]["data"]["attributes"]["status_code_description"] == "Message has been sent"
    assert documents[2]["data"]["attributes"]["status"] == "delivered"
    assert documents[2]["data"]["attributes"]["status_code"] == "1000"
    assert documents[2]["data"]["attributes"]["status_code_description"] == "Message delivered to handset"
    for document in documents.values():
        assert TIMESTAMP.match(document["data"]["attributes"]["timestamp"])
    for callback in callbacks:
        assert_plain_json_post(callback)
    assert len(site.receiver.requests(path)) == 2


def test_an_undelivered_message_reports_its_failure_code_as_a_string(site: Site, path: str) -> None:
    _, client = site.account("undelivered")
    with client:
        number = buy_number(client, starts_with="206")
        put_account_callback(client, "sms_dlr_callback", site.receiver.url(path))
        message_id = sent_id(send(client, from_=number, to="12065550001", body="nobody home"))
        documents = by_level(site.receiver.wait_for(2, path=path))
        level_2, _ = wait_for_status(client, message_id, "undelivered", receipts=2)["delivery_receipts"]
    assert_json_equal(documents[2], expected_dlr(site.server, message_id, "nobody home", level_2))
    assert documents[2]["data"]["attributes"]["status_code"] == "1100"


# inbound messages


def expected_inbound(record: dict[str, Any], callback_url: str) -> dict[str, Any]:
    """The contract's inbound payload built from the receiving account's own MDR."""
    attributes = dict(record["data"]["attributes"])
    attributes["message_callback_url"] = callback_url
    expected: dict[str, Any] = {"data": {"type": "message", "id": record["data"]["id"], "attributes": attributes}}
    if "relationships" in record["data"]:
        expected["data"]["relationships"] = record["data"]["relationships"]
        expected["included"] = record["included"]
    return expected


INBOUND_SMS_KEYS = {
    "amount_display",
    "amount_nanodollars",
    "body",
    "delivery_receipts",
    "direction",
    "from",
    "is_mms",
    "message_callback_url",
    "message_encoding",
    "message_type",
    "status",
    "timestamp",
    "to",
}


def check_inbound_sms(document: dict[str, Any], *, sender: str, owner_number: str, body: str, url: str) -> None:
    assert set(document) == {"data"}
    assert set(document["data"]) == {"type", "id", "attributes"}
    attributes = document["data"]["attributes"]
    assert set(attributes) == INBOUND_SMS_KEYS
    assert_json_equal(
        {key: value for key, value in attributes.items() if key != "timestamp"},
        {
            "amount_display": "$0.0040",
            "amount_nanodollars": 4_000_000,
            "body": body,
            "delivery_receipts": [],
            "direction": "inbound",
            "from": sender,
            "is_mms": False,
            "message_callback_url": url,
            "message_encoding": 0,
            "message_type": "longcode",
            "status": "delivered",
            "to": owner_number,
        },
    )
    assert TIMESTAMP.match(attributes["timestamp"])


def test_inbound_sms_on_net_reaches_the_owners_number_callback(site: Site, path: str) -> None:
    _, sender = site.account("sender")
    _, owner = site.account("owner")
    url = site.receiver.url(path)
    with sender, owner:
        from_number = buy_number(sender, starts_with="206")
        to_number = buy_number(owner, starts_with="425")
        set_number_callback(owner, to_number, "sms_callback", url)
        sent_id(send(sender, from_=from_number, to=to_number, body="hi from next door"))
        [callback] = site.receiver.wait_for(1, path=path)
        document = callback.json()
        record = mdr(owner, document["data"]["id"])
    assert_plain_json_post(callback)
    check_inbound_sms(document, sender=from_number, owner_number=to_number, body="hi from next door", url=url)
    assert_json_equal(document, expected_inbound(record, url))


def test_inbound_sms_from_the_sandbox_reaches_the_account_callback(site: Site, path: str) -> None:
    _, owner = site.account("sandbox-sms")
    url = site.receiver.url(path)
    with owner:
        to_number = buy_number(owner, starts_with="503")
        put_account_callback(owner, "sms_callback", url)
        injected = inject(site, {"from": "12065550123", "to": to_number, "body": "Hello"})
        [callback] = site.receiver.wait_for(1, path=path)
        document = callback.json()
        record = mdr(owner, document["data"]["id"])
    assert injected == document["data"]["id"]
    check_inbound_sms(document, sender="12065550123", owner_number=to_number, body="Hello", url=url)
    assert_json_equal(document, expected_inbound(record, url))


def inject(site: Site, body: dict[str, Any]) -> str:
    token = site.deployment.admin_token()
    with loopback.client(base_url=site.server.url, timeout=30.0) as client:
        response = client.post("/sandbox/inbound", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 202, response.text
    return str(response.json()["data"]["id"])


def check_inbound_mms(
    site: Site,
    owner: httpx.Client,
    document: dict[str, Any],
    *,
    sender: str,
    owner_number: str,
    body: str,
    url: str,
    media_url: str,
    version: str = "2.1",
) -> None:
    assert set(document) == {"data", "included"}
    data = document["data"]
    assert set(data) == {"type", "id", "attributes", "relationships"}
    attributes = data["attributes"]
    assert set(attributes) == INBOUND_SMS_KEYS
    assert_json_equal(
        {key: value for key, value in attributes.items() if key != "timestamp"},
        {
            "amount_display": "$0.0095",
            "amount_nanodollars": 9_500_000,
            "body": body,
            "delivery_receipts": [],
            "direction": "inbound",
            "from": sender,
            "is_mms": True,
            "message_callback_url": url,
            "message_encoding": 0,
            "message_type": "longcode",
            "status": "",
            "to": owner_number,
        },
    )
    [reference] = data["relationships"]["media"]["data"]
    assert set(data["relationships"]) == {"media"}
    assert MEDIA_ID.match(reference["id"]) and reference["id"].endswith("-cat.gif")
    assert_json_equal(
        document["included"],
        [
            {
                "type": "media",
                "id": reference["id"],
                "attributes": {
                    "url": media_url,
                    "file_name": "cat.gif",
                    "mime_type": "image/gif",
                    "file_size": len(GIF),
                },
                "links": {"self": f"{site.server.url}/v{version}/media/{reference['id']}"},
            }
        ],
    )
    assert reference == {"type": "media", "id": reference["id"]}
    stored = owner.get(f"/v{version}/media/{reference['id']}")
    assert stored.status_code == 200 and stored.content == GIF


def test_inbound_mms_on_net_carries_its_media(site: Site, path: str) -> None:
    _, sender = site.account("mms-sender")
    _, owner = site.account("mms-owner")
    url = site.receiver.url(path)
    media_url = site.receiver.serve(f"{path}/cat.gif", GIF, content_type="image/gif")
    with sender, owner:
        from_number = buy_number(sender, starts_with="206")
        to_number = buy_number(owner, starts_with="206")
        set_number_callback(owner, to_number, "mms_callback", url)
        set_number_callback(owner, to_number, "sms_callback", site.receiver.url(path + "/wrong"))
        sent_id(send(sender, from_=from_number, to=to_number, body="look", media_urls=[media_url]))
        [callback] = site.receiver.wait_for(1, path=path)
        document = callback.json()
        record = mdr(owner, document["data"]["id"])
        check_inbound_mms(
            site, owner, document, sender=from_number, owner_number=to_number, body="look", url=url, media_url=media_url
        )
    assert_plain_json_post(callback)
    assert_json_equal(document, expected_inbound(record, url))
    assert site.receiver.requests(path + "/wrong") == []


@pytest.mark.parametrize("version", ["2.1", "2.2"])
def test_inbound_mms_from_the_sandbox_reaches_the_account_mms_callback(site: Site, path: str, version: str) -> None:
    # In the version the account's mms_callback was set through: v2.2's numbers are E.164, its media under /v2.2/.
    _, owner = site.account(f"sandbox-mms-{version}")
    plus = "+" if version == "2.2" else ""
    url = site.receiver.url(path)
    media_url = site.receiver.serve(f"{path}/cat.gif", GIF, content_type="image/gif")
    with owner:
        to_number = buy_number(owner, starts_with="503")
        put_account_callback(owner, "mms_callback", url, version)
        put_account_callback(owner, "sms_callback", site.receiver.url(path + "/wrong"), version)
        inject(site, {"from": "12065550123", "to": to_number, "body": "pic", "media_urls": [media_url]})
        [callback] = site.receiver.wait_for(1, path=path)
        document = callback.json()
        record = mdr(owner, document["data"]["id"], version)
        check_inbound_mms(
            site,
            owner,
            document,
            sender=f"{plus}12065550123",
            owner_number=f"{plus}{to_number}",
            body="pic",
            url=url,
            media_url=media_url,
            version=version,
        )
    assert_json_equal(document, expected_inbound(record, url))
    assert site.receiver.requests(path + "/wrong") == []


# where callbacks go


def dlr_paths(site: Site, message_id: str, paths: list[str]) -> list[str]:
    """The paths that received the two DLRs of this message, once both arrived."""

    def mine() -> list[Recorded]:
        return [
            item for item in site.receiver.requests() if item.path in paths and item.json()["data"]["id"] == message_id
        ]

    site.receiver.wait_until(lambda _: len(mine()) >= 2)
    return sorted(item.path for item in mine())


def test_dlr_callback_precedence_is_message_then_number_then_account(site: Site, path: str) -> None:
    _, client = site.account("precedence")
    paths = [f"{path}/message", f"{path}/number", f"{path}/account"]
    message_url, number_url, account_url = (site.receiver.url(item) for item in paths)
    with client:
        with_number_callback = buy_number(client, starts_with="206")
        plain = buy_number(client, starts_with="206")
        put_account_callback(client, "sms_dlr_callback", account_url)
        set_number_callback(client, with_number_callback, "sms_dlr_callback", number_url)

        first = sent_id(send(client, from_=with_number_callback, to="12065550111", body="a", dlr_callback=message_url))
        assert dlr_paths(site, first, paths) == [paths[0], paths[0]]
        second = sent_id(send(client, from_=with_number_callback, to="12065550112", body="b"))
        assert dlr_paths(site, second, paths) == [paths[1], paths[1]]
        third = sent_id(send(client, from_=plain, to="12065550113", body="c"))
        assert dlr_paths(site, third, paths) == [paths[2], paths[2]]
        set_number_callback(client, with_number_callback, "sms_dlr_callback", None)
        fourth = sent_id(send(client, from_=with_number_callback, to="12065550114", body="d"))
        assert dlr_paths(site, fourth, paths) == [paths[2], paths[2]]
    assert len(site.receiver.requests(paths[0])) == 2
    assert len(site.receiver.requests(paths[1])) == 2
    assert len(site.receiver.requests(paths[2])) == 4


def test_legacy_dlr_callback_type_is_the_sms_dlr_callback(site: Site, path: str) -> None:
    _, client = site.account("legacy")
    paths = [f"{path}/number", f"{path}/account"]
    with client:
        number = buy_number(client, starts_with="206")
        other = buy_number(client, starts_with="206")
        put_account_callback(client, "dlr_callback", site.receiver.url(paths[1]))
        set_number_callback(client, number, "dlr_callback", site.receiver.url(paths[0]))
        via_number = sent_id(send(client, from_=number, to="12065550121", body="legacy number"))
        via_account = sent_id(send(client, from_=other, to="12065550122", body="legacy account"))
        assert dlr_paths(site, via_number, paths) == [paths[0], paths[0]]
        assert dlr_paths(site, via_account, paths) == [paths[1], paths[1]]


def test_an_mms_reports_to_the_mms_dlr_callback(site: Site, path: str) -> None:
    _, client = site.account("mms-dlr")
    paths = [f"{path}/mms", f"{path}/sms", f"{path}/number-mms"]
    media_url = site.receiver.serve(f"{path}/cat.gif", GIF, content_type="image/gif")
    with client:
        number = buy_number(client, starts_with="206")
        other = buy_number(client, starts_with="206")
        put_account_callback(client, "sms_dlr_callback", site.receiver.url(paths[1]))
        put_account_callback(client, "mms_dlr_callback", site.receiver.url(paths[0]))
        set_number_callback(client, other, "mms_dlr_callback", site.receiver.url(paths[2]))
        mms = sent_id(send(client, from_=number, to="12065550131", body="pic", media_urls=[media_url]))
        via_number = sent_id(send(client, from_=other, to="12065550132", is_mms="true", media_urls=[media_url]))
        assert dlr_paths(site, mms, paths) == [paths[0], paths[0]]
        assert dlr_paths(site, via_number, paths) == [paths[2], paths[2]]
        level_2 = by_level([item for item in site.receiver.requests(paths[2])])[2]
    assert level_2["data"]["attributes"]["body"] is None
    assert level_2["data"]["attributes"]["status_code"] == "1000"
    assert site.receiver.requests(paths[1]) == []


def test_no_callback_configured_posts_nothing(site: Site, path: str) -> None:
    _, client = site.account("quiet")
    with client:
        number = buy_number(client, starts_with="206")
        message_id = sent_id(send(client, from_=number, to="12065550141", body="quiet"))
        wait_for_status(client, message_id, "delivered", receipts=2)
    rows = site.deployment.query(
        "SELECT COUNT(*) AS n FROM webhook_attempts WHERE message_public_id = :id", {"id": message_id}
    )
    assert rows == [{"n": 0}]


# signatures


def test_callbacks_are_signed_when_the_account_has_a_secret(site: Site, path: str) -> None:
    keys, client = site.account("signed")
    secret = site.deployment.cli_json("accounts", "webhook-secret", keys[0])["webhook_secret"]
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret)
    with client:
        number = buy_number(client, starts_with="206")
        put_account_callback(client, "sms_dlr_callback", site.receiver.url(path))
        message_id = sent_id(send(client, from_=number, to="12065550151", body="signed"))
        callbacks = site.receiver.wait_for(2, path=path)
        verifier = Webhook(secret)
        for callback in callbacks:
            assert callback.headers["content-type"] == "application/json"
            assert re.fullmatch(r"msg_[0-9a-f]{32}", callback.headers["webhook-id"])
            assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", callback.headers["webhook-signature"])
            assert verifier.verify(callback.body, callback.headers) == json.loads(callback.body)
            assert callback.json()["data"]["id"] == message_id
            tampered = callback.body.replace(b'"signed"', b'"forged"')
            assert tampered != callback.body
            with pytest.raises(WebhookVerificationError):
                verifier.verify(tampered, callback.headers)
            with pytest.raises(WebhookVerificationError):
                Webhook("whsec_" + "A" * 43 + "=").verify(callback.body, callback.headers)
        assert len({callback.headers["webhook-id"] for callback in callbacks}) == 2  # one id per callback

        site.deployment.cli("accounts", "webhook-secret", keys[0], "--clear")
        sent_id(send(client, from_=number, to="12065550152", body="unsigned again"))
        later = site.receiver.wait_for(4, path=path)[2:]
    for callback in later:
        assert_plain_json_post(callback)


def test_a_retried_callback_keeps_its_webhook_id_and_is_signed_afresh(site: Site, path: str) -> None:
    keys, client = site.account("signed-retry")
    secret = site.deployment.cli_json("accounts", "webhook-secret", keys[0])["webhook_secret"]
    site.receiver.respond(path, 503, 200)
    with client:
        number = buy_number(client, starts_with="503")
        set_number_callback(client, number, "sms_callback", site.receiver.url(path))
        inject(site, {"from": "12065550123", "to": number, "body": "twice"})
        first, second = site.receiver.wait_for(2, path=path)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    for callback in (first, second):
        Webhook(secret).verify(callback.body, callback.headers)


def test_a_message_sent_through_v22_reports_in_v22(site: Site, path: str) -> None:
    # Its DLRs link the v2.2 view of the record; a v2.1 message's keep linking v2.1.
    _, client = site.account("dlr-v22")
    with client:
        number = buy_number(client, starts_with="206")
        response = client.put("/v2.2/messages/sms_dlr_callback", json={"callback_url": site.receiver.url(path)})
        assert response.status_code == 204, response.text
        body = {"to": "+12065550199", "from": f"+{number}", "body": "Hello v2.2 DLR"}
        message_id = sent_id(client.post("/v2.2/messages", json=body))
        callbacks = site.receiver.wait_for(2, path=path)
        attributes = wait_for_status(client, message_id, "delivered", receipts=2)
    level_2, level_1 = attributes["delivery_receipts"]
    documents = by_level(callbacks)
    for level, receipt in ((1, level_1), (2, level_2)):
        expected = expected_dlr(site.server, message_id, "Hello v2.2 DLR", receipt)
        expected["data"]["links"]["related"] = f"{site.server.url}/v2.2/messages/{message_id}"
        assert_json_equal(documents[level], expected)


# inbound callbacks speak the version their account-level URL was set through


def test_an_inbound_sms_to_a_callback_set_through_v22_speaks_v22(site: Site, path: str) -> None:
    _, owner = site.account("inbound-v22-sms")
    url = site.receiver.url(path)
    with owner:
        to_number = buy_number(owner, starts_with="503")
        put_account_callback(owner, "sms_callback", url, "2.2")
        inject(site, {"from": "12065550123", "to": to_number, "body": "Hello v2.2"})
        [callback] = site.receiver.wait_for(1, path=path)
        document = callback.json()
        record = mdr(owner, document["data"]["id"], "2.2")
        # Set again through v2.1, the same URL's next inbound callback speaks v2.1 again.
        put_account_callback(owner, "sms_callback", url)
        inject(site, {"from": "12065550123", "to": to_number, "body": "Hello v2.1"})
        again = site.receiver.wait_for(2, path=path)[1].json()
    check_inbound_sms(document, sender="+12065550123", owner_number=f"+{to_number}", body="Hello v2.2", url=url)
    assert_json_equal(document, expected_inbound(record, url))
    check_inbound_sms(again, sender="12065550123", owner_number=to_number, body="Hello v2.1", url=url)


def test_a_numbers_own_inbound_callback_keeps_v21_under_a_v22_account_callback(site: Site, path: str) -> None:
    _, owner = site.account("inbound-number-v21")
    url = site.receiver.url(path)
    with owner:
        to_number = buy_number(owner, starts_with="503")
        put_account_callback(owner, "sms_callback", site.receiver.url(path + "/account"), "2.2")
        set_number_callback(owner, to_number, "sms_callback", url)
        inject(site, {"from": "12065550123", "to": to_number, "body": "number level"})
        [callback] = site.receiver.wait_for(1, path=path)
        document = callback.json()
        record = mdr(owner, document["data"]["id"])
    check_inbound_sms(document, sender="12065550123", owner_number=to_number, body="number level", url=url)
    assert_json_equal(document, expected_inbound(record, url))
    assert site.receiver.requests(path + "/account") == []
