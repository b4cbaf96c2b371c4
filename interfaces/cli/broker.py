"""`tradestate broker`: the paper broker's book — show it, or change it by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from domain.errors import BadInput, DomainError
from domain.values import check_symbol, to_decimal
from infrastructure.broker.book import PaperBook
from interfaces.cli.options import ConfigOption, DbOption, fail, settings_from

app = typer.Typer(
    help="The paper broker's book (positions, open orders, fills).", no_args_is_help=True
)


def _book(db: str | None, config: ConfigOption) -> PaperBook:
    settings = settings_from(db, config)
    return PaperBook.at(settings.database_url)


@app.command()
def show(db: DbOption = None, config: ConfigOption = None) -> None:
    """Print the broker's positions, its open orders, its latest fills and how far it has
    read the event log."""
    book = _book(db, config)
    try:
        positions = book.positions()
        orders = book.open_orders()
        fills = book.fills()
        cursor = book.cursor()
    finally:
        book.close()
    typer.echo(f"paper broker — read the event log up to sequence {cursor}")
    typer.echo("positions:")
    if not positions:
        typer.echo("  (flat)")
    for (account, instrument), quantity in sorted(positions.items()):
        typer.echo(f"  {account:<12} {instrument:<12} {quantity}")
    typer.echo("open orders:")
    if not orders:
        typer.echo("  (none)")
    for entry in orders:
        o = entry.order
        limit = f" limit {o.limit_price}" if o.limit_price is not None else ""
        typer.echo(
            f"  {o.client_order_id:<48} {o.side} {o.quantity} {o.instrument} {o.order_type}{limit}"
        )
    typer.echo("latest fills:")
    if not fills:
        typer.echo("  (none)")
    for f in fills:
        typer.echo(
            f"  {f['timestamp']:%Y-%m-%dT%H:%M:%S} {f['side']:<4} {f['quantity']} "
            f"{f['instrument']} @ {f['price']} (commission {f['commission']})"
        )


@app.command("set-position")
def set_position(
    account: Annotated[str, typer.Argument(help="Account, e.g. default.")],
    instrument: Annotated[str, typer.Argument(help="Instrument, e.g. AAPL.")],
    quantity: Annotated[
        str,
        typer.Argument(help="The broker's new net quantity (signed; use -- before a negative)."),
    ],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """A trade done by hand at the broker: set its quantity for (ACCOUNT, INSTRUMENT).

    Only the broker's book changes; the next reconciliation finds the difference."""
    try:
        account = check_symbol(account, "account")
        instrument = check_symbol(instrument, "instrument")
        target = to_decimal(quantity, "quantity")
    except BadInput as error:
        fail(str(error))
        return
    book = _book(db, config)
    try:
        before = book.set_position(account, instrument, target, datetime.now(UTC))
    finally:
        book.close()
    typer.echo(f"broker position {account}/{instrument}: {before} -> {target}")


@app.command()
def reconcile(
    policy: Annotated[
        str, typer.Option("--policy", help="ALERT (record only) or AUTO_CORRECT.")
    ] = "ALERT",
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Reconcile now, in the process that holds the broker (e.g. a `worker --engine`):
    the request goes through the store and the run it records is printed. Exit 1 when
    no process has a broker or none records the run in time."""
    from interfaces.composition import build_system

    settings = settings_from(db, config)
    system = build_system(settings)
    try:
        result = system.commands.reconciliation_requests.reconcile_anywhere(
            policy.upper(), settings.reconcile_request_timeout_seconds
        )
    except (DomainError, ValueError) as error:
        fail(str(error))
        return
    finally:
        system.close()
    run = result.reconciliation
    typer.echo(f"reconciliation {run.id} ({run.policy.value}) at sequence {result.sequence}:")
    if not run.mismatches:
        typer.echo("  no mismatches")
    for m in run.mismatches:
        typer.echo(
            f"  {m.account:<12} {m.instrument:<12} ours {m.local_quantity} "
            f"broker {m.broker_quantity}"
        )
