"""`telroute simulate ...`: inject traffic from the outside world into a sandbox."""

from __future__ import annotations

from typing import Annotated

import typer

from telroute.bootstrap import Deps
from telroute.cli_common import DatabaseUrl, DataDir, fail, run_with_deps, settings_for
from telroute.errors import TelrouteError
from telroute.messages import service
from telroute.messages.tasks import receive_inbound

simulate = typer.Typer(no_args_is_help=True, help="Simulate the outside world (sandbox).")


def register(app: typer.Typer) -> None:
    app.add_typer(simulate, name="simulate")


@simulate.command("inbound")
def inbound(
    from_number: Annotated[str, typer.Option("--from", help="The sender out in the world, e.g. 12065550100.")],
    to_number: Annotated[str, typer.Option("--to", help="A number an account on this server owns.")],
    body: Annotated[str | None, typer.Option("--body", help="The text (optional for an MMS).")] = None,
    media_urls: Annotated[
        list[str] | None, typer.Option("--media-url", help="Media to attach (repeat for several): an MMS.")
    ] = None,
    public_base_url: Annotated[
        str | None,
        typer.Option(
            help="Base of media links in the callback, e.g. the running server's http://127.0.0.1:8080 "
            "(env TELROUTE_PUBLIC_BASE_URL)."
        ),
    ] = None,
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
) -> None:
    """An inbound SMS (or MMS, with --media-url) to an owned number, as if a carrier delivered it.

    Writes the message record and the owner's callback job, as POST /sandbox/inbound does.

    A running server's worker then delivers the callback. Prints the new message id."""
    attributes = {"to": to_number, "from": from_number, "body": body, "media_urls": media_urls or None}
    try:
        message = service.validate_inbound(attributes, "")
    except TelrouteError as exc:
        raise fail(exc.detail) from exc

    async def action(deps: Deps) -> str:
        return await receive_inbound(deps, message)

    settings = settings_for(data_dir, database_url, public_base_url=public_base_url)
    typer.echo(run_with_deps(settings, action))
