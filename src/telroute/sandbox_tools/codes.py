"""One-time codes in a message body: 4 to 8 digits standing alone, or two groups of 3-4 digits joined by
a space or a hyphen (`123-456`, `123 456`), returned as digits only. Pure, no I/O."""

from __future__ import annotations

import re

# Not part of a word, a longer number, a phone number (`206-555-1234`), an amount (`$1234.50`, `1,234`)...
_BEFORE = r"(?<![\w+\-$.,])(?<!\)\s)"  # ... and not after an area code in parentheses: `(206) 555-1234`
_AFTER = r"(?![\w\-]|[.,][0-9])"
_CODE = re.compile(f"{_BEFORE}(?:([0-9]{{3,4}})[ -]([0-9]{{3,4}})|([0-9]{{4,8}})){_AFTER}")


def one_time_codes(body: str | None) -> list[str]:
    """The codes in `body`, in order of appearance, each once."""
    found: list[str] = []
    for match in _CODE.finditer(body or ""):
        code = match.group(3) or match.group(1) + match.group(2)
        if code not in found:
            found.append(code)
    return found
