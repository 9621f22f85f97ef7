"""`--log-format json`: one JSON object per line, carrying the message id from the API through the
worker and the carrier to the callback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.callback_receiver import CallbackReceiver
from tests.support.isolated import deployment, eventually
from tests.support.messaging import buy_number, sent_id


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_json_logs_follow_one_message_from_api_to_callback(tmp_path: Path) -> None:
    with deployment(tmp_path) as deployed, CallbackReceiver() as receiver:
        # The worker in a process of its own: both processes' lines, one message's, in order in one stream.
        server = deployed.server(
            "--log-format", "json", TELROUTE_SIMULATOR_RECEIPT_DELAY="0.1", TELROUTE_WORKER_PROCESS="1"
        ).start()
        try:
            keys = deployed.new_account("logs")
            with server.client(keys) as client:
                number = buy_number(client, starts_with="206")
                client.put("/v2.1/messages/sms_dlr_callback", json={"callback_url": receiver.url("/dlr")})
                message_id = sent_id(
                    client.post("/v2.1/messages", json={"to": "12065550100", "from": number, "body": "x"})
                )

            def events() -> list[str] | None:
                found = [line["event"] for line in json_lines(server.output()) if line.get("message_id") == message_id]
                return found if found.count("callback") == 2 else None

            found = eventually(events, timeout=20, what="both callbacks logged")
        finally:
            server.terminate()
    assert found[0] == "message accepted"
    assert {"message submitted", "message status", "callback"} <= set(found)
    assert all(line["level"] in {"info", "warning", "error"} for line in json_lines(server.output()))
