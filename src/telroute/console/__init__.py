"""The web console at /console: a live inbox of an account's messages, receipts and callbacks, and an
operator view with the admin token. Server-rendered HTML, one small script, no build step."""
