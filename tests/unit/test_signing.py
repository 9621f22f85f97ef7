"""Standard Webhooks signatures: the specification's published vector, and interoperability with the
reference verifier (the `standardwebhooks` package, which we did not write)."""

from __future__ import annotations

import base64
import re
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from telroute.webhooks.signing import new_signing_secret, signature, signed_headers

# From the reference implementation's own test (standard-webhooks/standard-webhooks,
# libraries/python/tests/test_webhooks.py, test_sign_function).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_published_vector_reproduces_exactly() -> None:
    assert signature(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_the_whsec_prefix_is_optional() -> None:
    bare = VECTOR_SECRET.removeprefix("whsec_")
    assert signature(bare, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_the_reference_signer_agrees_on_the_vector() -> None:
    moment = datetime.fromtimestamp(VECTOR_TIMESTAMP, UTC)
    assert Webhook(VECTOR_SECRET).sign(VECTOR_ID, moment, VECTOR_BODY.decode()) == VECTOR_SIGNATURE


def test_one_changed_input_changes_the_signature() -> None:
    changed = {
        signature(VECTOR_SECRET, VECTOR_ID + "x", VECTOR_TIMESTAMP, VECTOR_BODY),
        signature(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP + 1, VECTOR_BODY),
        signature(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY + b" "),
        signature(new_signing_secret(), VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY),
    }
    assert VECTOR_SIGNATURE not in changed
    assert len(changed) == 4


def test_signed_headers_verify_with_the_reference_verifier() -> None:
    secret = new_signing_secret()
    body = b'{"data": {"type": "delivery_receipt", "id": "mdr2-0123"}}'
    now = int(time.time())
    headers = signed_headers(secret, "msg_0123", now, body)
    assert headers == {
        "webhook-id": "msg_0123",
        "webhook-timestamp": str(now),
        "webhook-signature": signature(secret, "msg_0123", now, body),
    }
    assert Webhook(secret).verify(body, headers) == {"data": {"type": "delivery_receipt", "id": "mdr2-0123"}}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body, headers: (body.replace(b"0123", b"0124"), headers),
        lambda body, headers: (body, {**headers, "webhook-id": "msg_other"}),
        lambda body, headers: (body, {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 1)}),
    ],
    ids=["body", "id", "timestamp"],
)
def test_a_tampered_callback_fails_verification(tamper: object) -> None:
    secret = new_signing_secret()
    body = b'{"data": {"id": "mdr2-0123"}}'
    headers = signed_headers(secret, "msg_0123", int(time.time()), body)
    assert callable(tamper)
    changed_body, changed_headers = tamper(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(changed_body, changed_headers)


def test_a_new_secret_is_32_random_bytes_in_the_whsec_format() -> None:
    secrets = {new_signing_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret)
        assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32


def test_a_secret_without_its_base64_padding_signs_as_the_reference_does() -> None:
    """The reference verifier accepts a secret with its trailing `=` left off; so must the signer."""
    secret = new_signing_secret()
    unpadded = secret.rstrip("=")
    assert unpadded != secret
    body = b'{"ok": true}'
    headers = signed_headers(unpadded, "msg_1", int(time.time()), body)
    assert headers["webhook-signature"] == signature(secret, "msg_1", int(headers["webhook-timestamp"]), body)
    Webhook(unpadded).verify(body, headers)
