"""`tradestate audit verify`: hash chain, decodability, read models equal a fresh replay."""

from __future__ import annotations

import typer

from infrastructure.audit import Finding, verify_log, verify_read_models
from infrastructure.logging import configure_logging
from interfaces.cli.options import ConfigOption, DbOption, settings_from
from interfaces.cli.render import progress_bars
from interfaces.composition import build_system

app = typer.Typer(help="Audit the event store.", no_args_is_help=True)


def _report(finding: Finding) -> None:
    mark = "ok  " if finding.ok else "FAIL"
    typer.echo(f"[{mark}] {finding.check}: {finding.summary}")
    for line in finding.details:
        typer.echo(f"       {line}")


@app.command()
def verify(db: DbOption = None, config: ConfigOption = None) -> None:
    """Verify the hash chain, decodability and read models of the store.

    (1) the audit hash chain recomputed over every stored event, (2) every event
    decodes and upcasts with this code, (3) every read model equals a fresh
    replay. Exit 0 when all hold, 1 naming the first failing sequence otherwise."""
    # No start-up compatibility check: reporting unreadable events is this command's job.
    settings = settings_from(db, config)
    configure_logging(settings)
    system = build_system(settings, check=False)
    try:
        recorder, mapper = system.app.recorder, system.app.mapper
        with progress_bars() as progress:
            chain, decoding = verify_log(system.engine, system.url, recorder, mapper, progress)
            replay = verify_read_models(system.engine, recorder, mapper, progress)
    finally:
        system.close()
    findings = [chain, decoding, replay]
    for finding in findings:
        _report(finding)
    failed = [f for f in findings if not f.ok]
    if not failed:
        typer.echo("audit verify: all checks hold")
        return
    sequences = [f.sequence for f in failed if f.sequence is not None]
    where = f"first failing sequence {min(sequences)}" if sequences else "no sequence known"
    checks = ", ".join(f.check for f in failed)
    typer.echo(f"audit verify FAILED ({checks}): {where}", err=True)
    raise typer.Exit(1)
