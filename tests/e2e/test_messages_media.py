"""MMS over real sockets: media fetched from a real HTTP server, stored, listed and served back."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.messaging import (
    TIMESTAMP,
    Keys,
    buy_number,
    error_of,
    message,
    messages,
    new_account,
    send,
    sent_id,
    wait_until,
)
from tests.support.receiver import Receiver, sized_content
from tests.support.server import Server, free_port

OFF_NET = "13125550123"
LIMIT = 767_840
MEDIA_ID = re.compile(r"^\d{18}-(?P<name>.+)$")


def fresh(server: Server) -> tuple[Keys, str]:
    keys = new_account(server)
    with server.client(keys) as client:
        return keys, buy_number(client)


def media_object(server: Server, media_id: str, url: str, name: str, mime: str, size: int) -> dict[str, Any]:
    return {
        "type": "media",
        "id": media_id,
        "attributes": {"url": url, "file_name": name, "mime_type": mime, "file_size": size},
        "links": {"self": f"{server.url}/v2.1/media/{media_id}"},
    }


def test_an_mms_record_lists_its_media_and_serves_the_bytes(server: Server, media_host: Receiver) -> None:
    png, gif = sized_content(1000, seed=1), sized_content(2345, seed=2)
    png_url = media_host.serve("/img/cat.png", png, content_type="image/png")
    gif_url = media_host.serve("/img/dog%20run.gif", gif, content_type="image/gif; charset=binary")
    keys, number = fresh(server)
    with server.client(keys) as client:
        message_id = sent_id(send(client, to=OFF_NET, from_=number, body="pics", media_urls=[png_url, gif_url]))
        document = message(client, message_id)
        included = document["included"]
        png_id, gif_id = (item["id"] for item in included)
        png_response = client.get(f"/v2.1/media/{png_id}")
        gif_response = client.get(f"/v2.1/media/{gif_id}")
        listed = messages(client)["data"]

    assert set(document) == {"data", "included"}
    assert set(document["data"]) == {"type", "id", "attributes", "relationships"}
    assert document["data"]["relationships"] == {
        "media": {"data": [{"type": "media", "id": png_id}, {"type": "media", "id": gif_id}]}
    }
    assert included == [
        media_object(server, png_id, png_url, "cat.png", "image/png", 1000),
        media_object(server, gif_id, gif_url, "dogrun.gif", "image/gif", 2345),
    ]
    assert MEDIA_ID.fullmatch(png_id)["name"] == "cat.png"  # type: ignore[index]
    assert MEDIA_ID.fullmatch(gif_id)["name"] == "dogrun.gif"  # type: ignore[index]
    attributes = document["data"]["attributes"]
    assert attributes["is_mms"] is True
    assert attributes["body"] == "pics"
    assert (attributes["amount_nanodollars"], attributes["amount_display"]) == (19_500_000, "$0.0195")

    assert png_response.status_code == 200
    assert png_response.content == png
    assert png_response.headers["content-type"] == "image/png"
    assert png_response.headers["content-disposition"] == 'inline; filename="cat.png"'
    assert gif_response.content == gif
    assert gif_response.headers["content-type"] == "image/gif"
    # the list carries the records without relationships
    assert [set(item) for item in listed] == [{"type", "id", "attributes"}]
    fetched = [request.path for request in media_host.requests(method="GET")]
    assert fetched[-2:] == ["/img/cat.png", "/img/dog%20run.gif"]


def test_an_mms_of_media_alone_has_a_null_body(server: Server, media_host: Receiver) -> None:
    url = media_host.serve("/only.jpg", sized_content(10), content_type="image/jpeg")
    keys, number = fresh(server)
    with server.client(keys) as client:
        document = message(client, sent_id(send(client, to=OFF_NET, from_=number, media_urls=[url])))
    assert document["data"]["attributes"]["body"] is None
    assert document["data"]["attributes"]["is_mms"] is True
    assert document["data"]["attributes"]["message_encoding"] == 0
    assert [item["attributes"]["mime_type"] for item in document["included"]] == ["image/jpeg"]


def test_the_mime_type_is_guessed_from_the_name_when_not_declared(server: Server, media_host: Receiver) -> None:
    url = media_host.serve("/clip.mp4", sized_content(50), content_type="")
    keys, number = fresh(server)
    with server.client(keys) as client:
        document = message(client, sent_id(send(client, to=OFF_NET, from_=number, media_urls=[url])))
    assert document["included"][0]["attributes"]["mime_type"] == "video/mp4"


def test_odd_names_and_content_types_are_made_safe(server: Server, media_host: Receiver) -> None:
    """A file name goes into the media id, its link and a Content-Disposition header; a content type is
    stored and sent back: what the media host says must not break either (it used to give 500s)."""
    cyrillic = media_host.serve("/%D1%84%D0%BE%D1%82%D0%BE.jpg", b"photo", content_type="image/jpeg")
    no_name = media_host.serve("/", b"root", content_type="text/plain")
    bad_type = media_host.serve("/weird.png", b"png", content_type="image/p\u00e9ng")
    keys, number = fresh(server)
    with server.client(keys) as client:
        message_id = sent_id(send(client, to=OFF_NET, from_=number, media_urls=[cyrillic, no_name, bad_type]))
        included = message(client, message_id)["included"]
        served = [client.get(f"/v2.1/media/{item['id']}") for item in included]
    attributes = [(item["attributes"]["file_name"], item["attributes"]["mime_type"]) for item in included]
    assert attributes == [("media.jpg", "image/jpeg"), ("media", "text/plain"), ("weird.png", "image/png")]
    assert [MEDIA_ID.fullmatch(item["id"])["name"] for item in included] == ["media.jpg", "media", "weird.png"]  # type: ignore[index]
    assert [response.status_code for response in served] == [200, 200, 200]
    assert [response.content for response in served] == [b"photo", b"root", b"png"]
    assert served[0].headers["content-disposition"] == 'inline; filename="media.jpg"'
    assert served[2].headers["content-type"] == "image/png"


def test_media_exactly_at_the_limit_is_accepted(server: Server, media_host: Receiver) -> None:
    first = media_host.serve_size("/limit/a.bin", LIMIT - 1000, seed=3)
    second = media_host.serve_size("/limit/b.bin", 1000, seed=4)
    keys, number = fresh(server)
    with server.client(keys) as client:
        document = message(client, sent_id(send(client, to=OFF_NET, from_=number, media_urls=[first, second])))
        served = client.get(f"/v2.1/media/{document['included'][0]['id']}")
    assert [item["attributes"]["file_size"] for item in document["included"]] == [LIMIT - 1000, 1000]
    assert served.content == sized_content(LIMIT - 1000, seed=3)


@pytest.mark.parametrize("send_length", [True, False], ids=["content-length", "streamed"])
def test_media_over_the_limit_in_total_is_422(server: Server, media_host: Receiver, send_length: bool) -> None:
    suffix = "len" if send_length else "stream"
    first = media_host.serve(f"/big/one-{suffix}.jpg", sized_content(400_000), content_type="image/jpeg")
    second = media_host.serve(
        f"/big/two-{suffix}.jpg", sized_content(400_000), content_type="image/jpeg", send_length=send_length
    )
    keys, number = fresh(server)
    with server.client(keys) as client:
        response = send(client, to=OFF_NET, from_=number, body="too big", media_urls=[first, second])
        listed = messages(client)["data"]
    error = error_of(response, 422)
    assert error["detail"] == f'Error fetching media: File at "{second}" is over 767840 byte limit.'
    assert listed == []


def test_one_file_over_the_limit_is_422(server: Server, media_host: Receiver) -> None:
    url = media_host.serve_size("/big/single.png", LIMIT + 1)
    keys, number = fresh(server)
    with server.client(keys) as client:
        response = send(client, to=OFF_NET, from_=number, is_mms="true", media_urls=[url])
    assert error_of(response, 422)["detail"] == f'Error fetching media: File at "{url}" is over 767840 byte limit.'


def test_unreachable_media_is_422(server: Server, media_host: Receiver) -> None:
    closed = f"http://127.0.0.1:{free_port()}/gone.png"
    missing = media_host.url("/no/such/file.png")
    media_host.respond("/broken.png", 500)
    broken = media_host.url("/broken.png")
    keys, number = fresh(server)
    with server.client(keys) as client:
        responses = {url: send(client, to=OFF_NET, from_=number, media_urls=[url]) for url in (closed, missing, broken)}
        listed = messages(client)["data"]
    for url, response in responses.items():
        error = error_of(response, 422)
        assert error["detail"].startswith(f'Error fetching media: File at "{url}" could not be fetched: '), error
    assert error_of(responses[missing], 422)["detail"].endswith("HTTP 404")
    assert error_of(responses[broken], 422)["detail"].endswith("HTTP 500")
    assert listed == []


def test_another_account_cannot_read_the_media(server: Server, media_host: Receiver) -> None:
    url = media_host.serve("/private.png", sized_content(64), content_type="image/png")
    keys, number = fresh(server)
    with server.client(keys) as client:
        message_id = sent_id(send(client, to=OFF_NET, from_=number, media_urls=[url]))
        media_id = message(client, message_id)["included"][0]["id"]
    with server.client(new_account(server)) as stranger:
        for wanted in (media_id, "123456789012345678-nothing.png"):
            error = error_of(stranger.get(f"/v2.1/media/{wanted}"), 404)
            assert error["detail"] == f"media {wanted} was not found on this account"


def test_an_on_net_mms_arrives_with_its_media_copied(server: Server, media_host: Receiver) -> None:
    picture = sized_content(5000, seed=9)
    url = media_host.serve("/on-net/photo.jpg", picture, content_type="image/jpeg")
    alice, bob = new_account(server, "alice"), new_account(server, "bob")
    with server.client(alice) as alice_client, server.client(bob) as bob_client:
        alice_number, bob_number = buy_number(alice_client), buy_number(bob_client)
        sent = sent_id(send(alice_client, to=bob_number, from_=alice_number, body="look", media_urls=[url]))
        [listed] = wait_until(lambda: messages(bob_client)["data"], what="bob's inbound MMS")
        received = message(bob_client, listed["id"])
        bob_media = received["included"][0]["id"]
        alice_media = message(alice_client, sent)["included"][0]["id"]
        bob_copy = bob_client.get(f"/v2.1/media/{bob_media}")
        assert bob_client.get(f"/v2.1/media/{alice_media}").status_code == 404
        assert alice_client.get(f"/v2.1/media/{bob_media}").status_code == 404
        sender_view = wait_until(
            lambda: message(alice_client, sent)["data"]["attributes"]["status"] == "delivered", what="delivered"
        )
    assert sender_view
    assert bob_media != alice_media
    assert bob_copy.content == picture
    assert bob_copy.headers["content-type"] == "image/jpeg"
    assert received["data"]["relationships"] == {"media": {"data": [{"type": "media", "id": bob_media}]}}
    assert received["included"] == [media_object(server, bob_media, url, "photo.jpg", "image/jpeg", 5000)]
    attributes = received["data"]["attributes"]
    assert TIMESTAMP.fullmatch(attributes.pop("timestamp"))
    assert attributes == {
        "body": "look",
        "status": "",
        "direction": "inbound",
        "amount_nanodollars": 9_500_000,
        "amount_display": "$0.0095",
        "to": bob_number,
        "from": alice_number,
        "message_encoding": 0,
        "is_mms": True,
        "message_type": "longcode",
        "delivery_receipts": [],
    }
    # the media was fetched once, when alice's message was accepted
    assert [request.path for request in media_host.requests("/on-net/photo.jpg")] == ["/on-net/photo.jpg"]
