"""Random identifiers (message ids, webhook ids, the simulator's carrier ids): 128 bits from the operating
system's CSPRNG as 32 hex digits, the form `uuid.uuid4().hex` gave, without building a UUID object first
(0.45 against 2.0 µs, four times a message)."""

from __future__ import annotations

import os


def random_hex() -> str:
    return os.urandom(16).hex()
