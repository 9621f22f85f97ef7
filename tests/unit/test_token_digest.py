"""The admin token is kept only as its digest once the settings are read, and still recognised."""

from __future__ import annotations

from dataclasses import astuple

from telroute.config import settings_from_env
from telroute.kit.token_digest import TokenDigest

TOKEN = "operator-token-9f3a7c"


def test_the_settings_hold_the_digest_and_never_the_token() -> None:
    settings = settings_from_env({"TELROUTE_ADMIN_TOKEN": TOKEN})
    assert isinstance(settings.admin_token, TokenDigest)
    assert TOKEN not in repr(settings)
    assert TOKEN not in repr(astuple(settings)) and TOKEN.encode() not in settings.admin_token.digest


def test_the_digest_recognises_the_token_and_nothing_else() -> None:
    digest = TokenDigest.of(TOKEN)
    assert digest.matches(TOKEN)
    assert not digest.matches(TOKEN + " ")
    assert not digest.matches("")
    assert not digest.matches(TOKEN.upper())


def test_no_token_configured_is_none() -> None:
    assert settings_from_env({"TELROUTE_ADMIN_TOKEN": ""}).admin_token is None
