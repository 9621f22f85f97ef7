"""Delivery receipts: recognising them, reading them, and matching their ids to ours.

A receipt is a deliver_sm whose esm_class message type is "MC delivery receipt" (0x04) or
"intermediate delivery notification" (0x20). Its facts come from the TLVs when present
(receipted_message_id, message_state, network_error_code) and otherwise from the de facto text
format of SMPP 3.4 appendix B: `id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…`.

SMSCs disagree on how they spell an id: the submit_sm_resp may say `1A2B` and the receipt `6699`
(hex versus decimal), or `000123` and `123`. The port's `id_keys` gives the spellings under which an
id can be found; `IdIndex` maps a receipt's id back to the id as the submit_sm_resp spelled it.
"""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from dataclasses import dataclass

from telroute.carriers.smpp.pdu import ShortMessage, Tag, read_tlv_cstring, read_tlv_int
from telroute.messages.carrier_port import id_keys

ESM_TYPE_MASK = 0x3C
ESM_DELIVERY_RECEIPT = 0x04
ESM_INTERMEDIATE_NOTIFICATION = 0x20

# message_state values of SMPP 3.4, section 5.2.28, as their receipt stat words
STATE_WORDS = {
    1: "ENROUTE",
    2: "DELIVRD",
    3: "EXPIRED",
    4: "DELETED",
    5: "UNDELIV",
    6: "ACCEPTD",
    7: "UNKNOWN",
    8: "REJECTD",
}
FINAL_WORDS = frozenset(STATE_WORDS.values()) - {"ENROUTE", "ACCEPTD"}
_ALIASES = {
    "DELIVERED": "DELIVRD",
    "UNDELIVERABLE": "UNDELIV",
    "REJECTED": "REJECTD",
    "ACCEPTED": "ACCEPTD",
    "EXPIRD": "EXPIRED",
}
_FIELD = re.compile(r"(?:^|\s)(id|stat|err):(\S*)", re.IGNORECASE)
_TEXT_FIELD = re.compile(r"(?:^|\s)text:", re.IGNORECASE)  # the message's first characters: anything
_HEX = re.compile(r"[0-9a-f]+")


class ReceiptError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Receipt:
    message_id: str
    state: str
    error_code: int | None = None


def is_receipt(sm: ShortMessage) -> bool:
    kind = sm.esm_class & ESM_TYPE_MASK
    return kind in (ESM_DELIVERY_RECEIPT, ESM_INTERMEDIATE_NOTIFICATION) or (
        Tag.RECEIPTED_MESSAGE_ID in sm.tlvs and Tag.MESSAGE_STATE in sm.tlvs
    )


def parse_receipt(sm: ShortMessage, text: str) -> Receipt:
    """The receipt carried by `sm`, whose short message decodes to `text`. TLVs win over text."""
    fields: dict[str, str] = {}
    for name, value in _FIELD.findall(_TEXT_FIELD.split(text, maxsplit=1)[0]):
        fields.setdefault(name.lower(), value)
    message_id = read_tlv_cstring(sm.tlvs, Tag.RECEIPTED_MESSAGE_ID) or fields.get("id")
    state = _tlv_state(sm) or _stat_word(fields.get("stat"))
    if not message_id or not state:
        raise ReceiptError(f"receipt without id or stat: {text[:120]!r}")
    return Receipt(message_id, state, _tlv_error(sm) if Tag.NETWORK_ERROR_CODE in sm.tlvs else _err(fields))


def _tlv_state(sm: ShortMessage) -> str | None:
    value = read_tlv_int(sm.tlvs, Tag.MESSAGE_STATE)
    return None if value is None else STATE_WORDS.get(value, "UNKNOWN")


def _stat_word(word: str | None) -> str | None:
    if not word:
        return None
    word = word.upper()
    word = _ALIASES.get(word, word)
    return word if word in STATE_WORDS.values() else "UNKNOWN"


def _tlv_error(sm: ShortMessage) -> int | None:
    value = sm.tlvs[Tag.NETWORK_ERROR_CODE]
    # network type (1 octet), then the error code (2 octets)
    return int.from_bytes(value[1:3], "big") if len(value) == 3 else None


def _err(fields: dict[str, str]) -> int | None:
    value = fields.get("err", "")
    return int(value) if value.isdigit() else None


# --- matching ids -----------------------------------------------------------------------------


class IdIndex:
    """Maps a receipt's message id to the id the submit_sm_resp gave, across spellings.

    Where one receipt id could match two submitted ids (`26` is decimal 26 and hex 0x26), the
    relation this link has shown most often wins: same spelling, hex-then-decimal, or
    decimal-then-hex.
    """

    def __init__(self, capacity: int = 200_000) -> None:
        self._literal: OrderedDict[str, str] = OrderedDict()
        self._hex_value: OrderedDict[str, str] = OrderedDict()
        self._capacity = capacity
        self._seen: Counter[str] = Counter({"same": 2, "hex->dec": 1, "dec->hex": 0})

    def __len__(self) -> int:
        return len(self._literal)

    def remember(self, submitted_id: str) -> None:
        keys = id_keys(submitted_id)
        _bounded_put(self._literal, keys[0], submitted_id, self._capacity)
        if _HEX.fullmatch(keys[0]):
            _bounded_put(self._hex_value, keys[-1], submitted_id, self._capacity)

    def resolve(self, receipt_id: str) -> str | None:
        candidates = self._candidates(id_keys(receipt_id))
        if not candidates:
            return None
        if len(set(candidates.values())) == 1:
            self._seen[next(iter(candidates))] += 1
        relation = max(candidates, key=lambda name: self._seen[name])
        return candidates[relation]

    def _candidates(self, keys: tuple[str, ...]) -> dict[str, str]:
        literal, as_decimal = keys[0], keys[-1]
        found = {
            "same": self._literal.get(literal),
            "hex->dec": self._hex_value.get(literal) if literal.isdigit() else None,
            "dec->hex": self._literal.get(as_decimal) if len(keys) > 1 else None,
        }
        return {relation: submitted for relation, submitted in found.items() if submitted is not None}


def _bounded_put(table: OrderedDict[str, str], key: str, value: str, capacity: int) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > capacity:
        table.popitem(last=False)
