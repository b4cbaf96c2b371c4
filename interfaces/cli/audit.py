"""`tradestate audit`: the transparency log's heads and proofs, and `verify`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from infrastructure.audit import Finding, verify_checkpoints, verify_log
from infrastructure.logging import configure_logging
from infrastructure.readmodel_check import verify_read_models
from infrastructure.settings import Settings
from infrastructure.transparency.heads import (
    UNSIGNED_NOTE,
    TreeHead,
    load_public_key,
    signature_problem,
    write_key_pair,
)
from infrastructure.transparency.proofs import ProofUnavailable, check_proof, inclusion_proof
from infrastructure.transparency.verify import Integrity, fixed_head
from interfaces.cli.options import ConfigOption, DbOption, fail, settings_from
from interfaces.cli.render import graphql_json, progress_bars
from interfaces.composition import build_system

app = typer.Typer(help="Audit the event store: its transparency log.", no_args_is_help=True)

PublicKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--public-key",
        help="PEM public key that signs the heads (default: from settings, "
        "TRADESTATE_TRANSPARENCY_PUBLIC_KEY_FILE or the signing key's public half).",
    ),
]


def _report(finding: Finding) -> None:
    mark = "ok  " if finding.ok else "FAIL"
    typer.echo(f"[{mark}] {finding.check}: {finding.summary}")
    for line in finding.details:
        typer.echo(f"       {line}")


def _public_key(settings: Settings, given: Path | None) -> Any:
    path = given or settings.transparency_public_key_file or settings.transparency_signing_key_file
    if path is None:
        return None
    try:
        return load_public_key(path)
    except (OSError, ValueError) as error:
        fail(f"cannot read the public key {path}: {error}")


def _read_head(path: Path) -> TreeHead:
    try:
        return TreeHead.from_json(json.loads(path.read_text()))
    except (OSError, ValueError) as error:
        fail(f"cannot read the head {path}: {error}")
        raise


def _signing_note(head: TreeHead, public_key: Any) -> None:
    problem = signature_problem(head, public_key)
    if problem == "unsigned":
        typer.echo(f"note: {UNSIGNED_NOTE}", err=True)
    elif problem is not None:
        typer.echo(f"note: head signature: {problem}", err=True)


@app.command()
def keygen(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Private key file to write (PEM, mode 0600).")
    ] = Path("tradestate-signing.pem"),
) -> None:
    """Write an Ed25519 key pair for signing tree heads: OUT and OUT.pub.

    Name OUT in TRADESTATE_TRANSPARENCY_SIGNING_KEY_FILE for `serve`/`worker`;
    give OUT.pub to auditors. The private key is never stored in the database."""
    try:
        public = write_key_pair(out)
    except FileExistsError:
        fail(f"{out} exists; refusing to overwrite a key")
        return
    typer.echo(f"private key: {out}\npublic key:  {public}")


@app.command()
def head(
    as_json: Annotated[bool, typer.Option("--json", help="Print the head as JSON.")] = False,
    public_key: PublicKeyOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """The latest tree head (size, root, time, signature), for the auditor to keep
    outside the system (`audit verify --trusted HEAD.json`)."""
    settings = settings_from(db, config)
    configure_logging(settings)
    key = _public_key(settings, public_key)
    system = build_system(settings, check=False)
    try:
        with system.engine.connect() as connection:
            current = fixed_head(connection)
    finally:
        system.close()
    _signing_note(current, key)
    if as_json:
        typer.echo(json.dumps(current.to_json(), indent=2))
        return
    for name, value in current.to_json().items():
        typer.echo(f"{name:12} {value}")


@app.command()
def verify(
    trusted: Annotated[
        list[Path] | None,
        typer.Option("--trusted", help="A head kept earlier (`audit head --json`); repeatable."),
    ] = None,
    public_key: PublicKeyOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Verify the store on a head fixed when it starts (writes may go on).

    (1) every event against its leaf in the transparency log, each stored head's
    root and signature, a consistency proof from each --trusted head to now;
    (2) every event decodes and upcasts with this code; (3) every read model
    equals a fresh replay; (4) every time-travel checkpoint matches its digest
    and a replay of the log up to it. Exit 0 when all hold, 1 naming the first altered,
    missing or extra sequence otherwise."""
    settings = settings_from(db, config)
    configure_logging(settings)
    key = _public_key(settings, public_key)
    heads = [_read_head(path) for path in trusted or []]
    # No start-up compatibility check: reporting unreadable events is this command's job.
    system = build_system(settings, check=False)
    try:
        recorder, mapper = system.app.recorder, system.app.mapper
        with system.engine.connect() as connection, progress_bars() as progress:
            integrity = Integrity(connection, fixed_head(connection), heads, key)
            log, decoding = verify_log(
                system.engine, system.url, recorder, mapper, integrity, progress
            )
            replay = verify_read_models(system.engine, recorder, mapper, progress)
            stored = verify_checkpoints(system.engine, recorder, mapper, graphql_json, progress)
        beyond = (recorder.max_notification_id() or 0) - integrity.end_sequence
    finally:
        system.close()
    findings = [log, decoding, replay, stored]
    for finding in findings:
        _report(finding)
    if beyond > 0:
        typer.echo(f"note: {beyond} events written after the fixed head were not checked")
    if key is None:
        typer.echo("note: no public key: head signatures were not checked", err=True)
    failed = [f for f in findings if not f.ok]
    if not failed:
        typer.echo("audit verify: all checks hold")
        return
    sequences = [f.sequence for f in failed if f.sequence is not None]
    where = f"first failing sequence {min(sequences)}" if sequences else "no sequence known"
    checks = ", ".join(f.check for f in failed)
    typer.echo(f"audit verify FAILED ({checks}): {where}", err=True)
    raise typer.Exit(1)


@app.command()
def prove(
    sequence: Annotated[int, typer.Argument(min=1, help="The event's sequence.")],
    head_file: Annotated[
        Path | None,
        typer.Option("--head", help="Prove under this kept head (default: a stored head)."),
    ] = None,
    public_key: PublicKeyOption = None,
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Print an inclusion proof (JSON) of one event under a signed tree head:
    the event's bytes, leaf index, tree size, RFC 9162 path and the head."""
    settings = settings_from(db, config)
    configure_logging(settings)
    key = _public_key(settings, public_key)
    given = _read_head(head_file) if head_file is not None else None
    system = build_system(settings, check=False, migrate=False)
    try:
        with system.engine.connect() as connection:
            document = inclusion_proof(connection, system.app.recorder, sequence, given)
    except ProofUnavailable as error:
        fail(str(error))
        return
    finally:
        system.close()
    _signing_note(TreeHead.from_json(document["head"]), key)
    typer.echo(json.dumps(document, indent=2))


@app.command("check-proof")
def check_proof_command(
    proof: Annotated[Path, typer.Argument(help="A proof from `audit prove`.")],
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="PEM public key the head must be signed with."),
    ] = None,
) -> None:
    """Verify an inclusion proof offline, with no database: the event hashes to its
    leaf, the path leads to the head's root, the head's signature holds."""
    try:
        document = json.loads(proof.read_text())
        key = load_public_key(public_key) if public_key is not None else None
    except (OSError, ValueError) as error:
        fail(str(error))
        return
    problems = check_proof(document, key)
    if problems:
        for problem in problems:
            typer.echo(f"FAIL: {problem}", err=True)
        raise typer.Exit(1)
    head = TreeHead.from_json(document["head"])
    if key is None:
        typer.echo("note: no --public-key: the head's signature was NOT checked", err=True)
    elif head.signature is None:
        typer.echo(f"note: {UNSIGNED_NOTE}", err=True)
    typer.echo(
        f"ok: sequence {document['sequence']} is leaf {document['leafIndex']} of the tree "
        f"of {head.tree_size} leaves with root {head.root.hex()}"
    )
