"""SMPP 3.4 carrier links: our own asyncio client (codec, session) behind the Carrier interface."""

from telroute.carriers.smpp.carrier import SmppCarrier
from telroute.carriers.smpp.config import SmppLinkConfig

__all__ = ["SmppCarrier", "SmppLinkConfig"]
