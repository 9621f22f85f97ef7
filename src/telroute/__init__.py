"""telroute: a self-hostable numbers-and-messaging platform that speaks the Flowroute REST API."""

__version__ = "0.1.0"
