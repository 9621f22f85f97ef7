"""The SQL conditions that pick an account's messages by direction, numbers, status, kind and time: one
spelling for the console's search box (`console/repository.py`) and the sandbox's message search
(`sandbox_tools/repository.py`). Each caller adds its own free-text match and its order."""

from __future__ import annotations

from dataclasses import dataclass

WHERE = """account_id = :account
    AND (CAST(:direction AS TEXT) IS NULL OR direction = :direction)
    AND (CAST(:to_number AS TEXT) IS NULL OR to_number = :to_number)
    AND (CAST(:from_number AS TEXT) IS NULL OR from_number = :from_number)
    AND (CAST(:status AS TEXT) IS NULL OR status = :status)
    AND (CAST(:is_mms AS INTEGER) IS NULL OR is_mms = (CAST(:is_mms AS INTEGER) = 1))
    AND (CAST(:after AS BIGINT) IS NULL OR created_at_us > :after)
    AND (CAST(:before AS BIGINT) IS NULL OR created_at_us < :before)"""


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """The values `WHERE` compares; None: any. `after` and `before` are exclusive, in microseconds."""

    account_id: int
    direction: str | None = None
    to_number: str | None = None
    from_number: str | None = None
    status: str | None = None
    is_mms: bool | None = None
    after: int | None = None
    before: int | None = None

    def params(self) -> dict[str, object]:
        return {
            "account": self.account_id,
            "direction": self.direction,
            "to_number": self.to_number,
            "from_number": self.from_number,
            "status": self.status,
            "is_mms": None if self.is_mms is None else int(self.is_mms),
            "after": self.after,
            "before": self.before,
        }
