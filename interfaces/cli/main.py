"""`tradestate`: serve the API, run workers, migrate, replay and audit.

Each sub-command's module is imported only when that command runs (ADR 017):
`tradestate --help` lists them from the short help below, so printing the
help or the version never imports the server, the store or the migrations.
"""

from __future__ import annotations

from importlib import import_module
from typing import Annotated, Any

import typer
from typer import _click as click  # typer (0.29+) runs on its own copy of click: its types
from typer.core import TyperCommand, TyperGroup

# name: (module, attribute: a Typer sub-app or a command function, short help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "replay": (
        "interfaces.cli.replay", "replay",
        "Rebuild read models, or show the state at a past sequence or time.",
    ),
    "watch": (
        "interfaces.cli.watch", "watch",
        "Print live events as JSON lines (a GraphQL subscription client).",
    ),
    "worker": (
        "interfaces.cli.worker", "worker",
        "Run the projections until SIGINT/SIGTERM; with PostgreSQL, several workers share "
        "the work (one active runner per projection).",
    ),
    "serve": (
        "interfaces.cli.serve", "serve",
        "Serve /graphql (HTTP and WebSocket), /health, /ready and /metrics until SIGINT/SIGTERM.",
    ),
    "db": ("interfaces.cli.db", "app", "Database schema: migrations and compatibility."),
    "broker": (
        "interfaces.cli.broker", "app", "The paper broker's book (positions, open orders, fills).",
    ),
    "audit": ("interfaces.cli.audit", "app", "Audit the event store: its transparency log."),
    "events": ("interfaces.cli.events", "app", "Browse and export the event log."),
    "projections": (
        "interfaces.cli.projections", "app", "The projections that build the read models.",
    ),
}  # fmt: skip


def load_command(name: str) -> click.Command:
    """The real click command `name`, importing its module."""
    module, attribute, _ = COMMANDS[name]
    target: Any = getattr(import_module(module), attribute)
    holder = typer.Typer(callback=lambda: None)  # a group, even for one command
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name)(target)
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)  # a Typer with a callback builds a group
    return group.commands[name]


class LazyCommands(TyperGroup):
    """Lists every command from COMMANDS; imports one when it is invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in COMMANDS:  # for the listing: a stand-in with the short help
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name][2])
        return None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] in COMMANDS and args[0] not in self.commands:
            self.commands[args[0]] = load_command(args[0])
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="tradestate",
    cls=LazyCommands,
    help="Event-sourced state backend of an automated trading system.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def package_version() -> str:
    """The installed version. `importlib.metadata` is imported here, for `--version`
    only: it took a tenth of a second of every command's start (email, zipfile)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tradestate")
    except PackageNotFoundError:
        return "0+unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"tradestate {package_version()}")
        raise typer.Exit()


@app.callback()
def root(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Event-sourced state backend of an automated trading system."""


def main() -> None:
    app()
