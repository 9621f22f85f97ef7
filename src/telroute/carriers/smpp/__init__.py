"""SMPP 3.4 carrier links: our own asyncio client (codec, session) behind the Carrier interface
(`carrier.SmppCarrier`, configured by `config.SmppLinkConfig`)."""
