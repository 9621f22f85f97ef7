"""The console's HTML: a sign-in page and the application shell. Every value is escaped on the way in
(`html.escape` through `render`); the data itself is drawn by console.js as text, never as markup."""

from __future__ import annotations

import html
from string import Template

_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title · telroute console</title>
<link rel="stylesheet" href="/console/static/console.css">
$extra_head</head>"""

_SIGN_IN = Template(
    _HEAD
    + """<body class="sign-in">
<main>
<h1>telroute console</h1>
<form method="post" action="/console/sign-in" class="card" aria-labelledby="account-heading">
<h2 id="account-heading">Sign in with your account's keys</h2>
$error
<input type="hidden" name="csrf" value="$csrf">
<label for="access_key">Access key</label>
<input id="access_key" name="access_key" autocomplete="username" required>
<label for="secret_key">Secret key</label>
<input id="secret_key" name="secret_key" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<form method="post" action="/console/operator" class="card" aria-labelledby="operator-heading">
<h2 id="operator-heading">Operator</h2>
<input type="hidden" name="csrf" value="$csrf">
<label for="admin_token">Admin token</label>
<input id="admin_token" name="admin_token" type="password" autocomplete="off" required>
<button type="submit">Sign in as operator</button>
</form>
</main>
</body></html>
"""
)

_APP = Template(
    _HEAD
    + """<body data-view="$view">
<header>
<h1>telroute console</h1>
<span class="who">Signed in as <strong>$who</strong></span>
<form method="post" action="/console/sign-out"><input type="hidden" name="csrf" value="$csrf">
<button type="submit">Sign out</button></form>
</header>
<div id="app"><noscript>The console needs JavaScript.</noscript></div>
<script src="/console/static/console.js"></script>
</body></html>
"""
)


def render(template: Template, markup: dict[str, str] | None = None, **text: str) -> str:
    """Fill `template`: `text` values are escaped; `markup` is HTML this module built itself."""
    values = {name: html.escape(value) for name, value in text.items()}
    return template.substitute({"extra_head": "", **values, **(markup or {})})


def sign_in(csrf: str, error: str | None = None) -> str:
    alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return render(_SIGN_IN, {"error": alert}, title="Sign in", csrf=csrf)


def application(*, who: str, csrf: str, view: str) -> str:
    meta = f'<meta name="csrf-token" content="{html.escape(csrf)}">\n'
    return render(_APP, {"extra_head": meta}, title=who, who=who, csrf=csrf, view=view)
