"""data_coding: which one a text travels in on a link, and text <-> octets for each.

GSM 03.38 goes over SMPP unpacked, one septet per octet (the SMSC packs it for the air).
"""

from __future__ import annotations

from telroute.text.segments import GSM7, GSM_CODEC, UCS2, encoding_of

DC_DEFAULT = 0  # the SMSC default alphabet: GSM 03.38
DC_IA5 = 1
DC_LATIN1 = 3
DC_UCS2 = 8
LINK_CODINGS = (DC_DEFAULT, DC_LATIN1, DC_UCS2)


def choose(text: str, link_coding: int) -> int:
    """The data_coding for `text` on a link set to `link_coding`, falling back to UCS-2 when the
    link's alphabet cannot carry the text."""
    if link_coding == DC_DEFAULT:
        return DC_DEFAULT if encoding_of(text) == GSM7 else DC_UCS2
    if link_coding == DC_LATIN1:
        return DC_LATIN1 if _fits_latin1(text) else DC_UCS2
    if link_coding == DC_UCS2:
        return DC_UCS2
    raise ValueError(f"data_coding {link_coding} is not one of {LINK_CODINGS}")


def segment_encoding(data_coding: int) -> int:
    """The segments encoding whose part sizes apply (Latin-1 is split apart, see concat)."""
    return GSM7 if data_coding == DC_DEFAULT else UCS2


def encode(text: str, data_coding: int) -> bytes:
    if data_coding == DC_DEFAULT:
        return text.encode(GSM_CODEC)
    if data_coding == DC_LATIN1:
        return text.encode("latin-1")
    if data_coding == DC_UCS2:
        return text.encode("utf-16-be", "surrogatepass")
    raise ValueError(f"cannot encode text as data_coding {data_coding}")


def decode(raw: bytes, data_coding: int) -> str:
    """Text of an inbound message; undecodable octets become U+FFFD rather than failing."""
    if data_coding in (DC_DEFAULT, 0xF0, 0xF1, 0xF2, 0xF3):
        return raw.decode(GSM_CODEC, "replace")
    if data_coding == DC_IA5:
        return raw.decode("ascii", "replace")
    if data_coding == DC_UCS2:
        return raw.decode("utf-16-be", "replace")
    return raw.decode("latin-1")


def _fits_latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
