"""SMS encoding and segmentation: which alphabet a text needs and how it splits into parts.

GSM-7 texts are measured in septets (extension-table characters cost two: an escape and the
character); UCS-2 texts in UTF-16 code units (characters beyond the BMP cost two: a surrogate
pair). A single SMS holds 160 septets or 70 units; once a text is longer, each part loses room
to the 6-octet concatenation header and holds 153 septets or 67 units. A part never ends
between the two halves of an escape pair or a surrogate pair.
"""

from __future__ import annotations

from enum import IntEnum

import gsm0338  # noqa: F401  (importing it registers the "gsm03.38" codec)


class Encoding(IntEnum):
    """A text's alphabet, by its SMPP data_coding (and `message_encoding` on the wire)."""

    GSM7 = 0
    UCS2 = 8


GSM7 = Encoding.GSM7
UCS2 = Encoding.UCS2

GSM_CODEC = "gsm03.38"
_ESCAPE = 0x1B

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


def _gsm_char(raw: bytes) -> str | None:
    try:
        return raw.decode(GSM_CODEC)
    except UnicodeDecodeError:
        return None


def _table(prefix: bytes) -> frozenset[str]:
    chars = (_gsm_char(prefix + bytes((code,))) for code in range(128) if code != _ESCAPE)
    return frozenset(char for char in chars if char)


GSM_BASIC = _table(b"")
GSM_EXTENSION = _table(bytes((_ESCAPE,)))
_GSM_ALPHABET = GSM_BASIC | GSM_EXTENSION


def encoding_of(text: str) -> Encoding:
    """GSM7 when every character is in the GSM 03.38 default alphabet or its extension, else UCS2."""
    return GSM7 if _GSM_ALPHABET.issuperset(text) else UCS2


def septet_length(text: str) -> int:
    """Septets the text takes in GSM-7. Raises ValueError for a character GSM-7 cannot carry."""
    return sum(_septet_costs(text))


def count_segments(text: str) -> int:
    return len(split_segments(text)[1])


def split_segments(text: str) -> tuple[int, list[str]]:
    """(encoding, the text of each part). Joining the parts gives the text back."""
    encoding = encoding_of(text)
    return encoding, split_as(text, encoding)


def split_as(text: str, encoding: int) -> list[str]:
    """The parts of `text` sent in the given encoding (UCS2 also for a text GSM-7 could carry)."""
    if encoding == GSM7:
        return _split(text, _septet_costs(text), GSM7_SINGLE, GSM7_MULTI)
    return _split(text, _utf16_costs(text), UCS2_SINGLE, UCS2_MULTI)


def _septet_costs(text: str) -> list[int]:
    costs = []
    for char in text:
        if char in GSM_BASIC:
            costs.append(1)
        elif char in GSM_EXTENSION:
            costs.append(2)
        else:
            raise ValueError(f"{char!r} is not in the GSM 03.38 alphabet")
    return costs


def _utf16_costs(text: str) -> list[int]:
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _split(text: str, costs: list[int], single: int, multi: int) -> list[str]:
    if sum(costs) <= single:
        return [text]
    parts: list[str] = []
    start = used = 0
    for index, cost in enumerate(costs):
        if used + cost > multi:
            parts.append(text[start:index])
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    return parts
