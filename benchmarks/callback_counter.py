"""A fast local callback receiver for benchmarks: counts DLRs by level; GET /stats returns the counts."""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Any

import uvicorn

counts: Counter[str] = Counter()
seen_level2: set[str] = set()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["method"] == "POST":
        data = json.loads(body)["data"]
        level = data["attributes"].get("level")
        counts[f"level{level}"] += 1
        if level == 2:
            seen_level2.add(data["id"])
        reply = b""
    else:
        reply = json.dumps({**counts, "unique_level2": len(seen_level2)}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": reply})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", http="httptools", loop="uvloop")
