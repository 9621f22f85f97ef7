"""Porting: `POST /v2/portorders/portability`, which numbers could be ported into this deployment."""
