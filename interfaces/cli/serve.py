"""`tradestate serve`: the GraphQL API with the projections (and the engine with --demo)."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Annotated, Any

import typer

from infrastructure.compatibility import IncompatibleStore
from infrastructure.logging import configure_logging, get_logger
from infrastructure.settings import Settings
from interfaces.api.auth import Auth, is_loopback
from interfaces.cli.options import ConfigOption, DbOption, fail, settings_from

if TYPE_CHECKING:
    from interfaces.composition import System

log = get_logger("tradestate.serve")


def serve(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to bind (default 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default 8000).")] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    demo: Annotated[
        bool,
        typer.Option("--demo", help="Also run the demo engine: simulated feed, strategy, broker."),
    ] = False,
) -> None:
    """Serve /graphql (HTTP and WebSocket), /health, /ready and /metrics until
    SIGINT/SIGTERM. Migrates the read models first. Without tokens
    (TRADESTATE_READER_TOKEN / TRADESTATE_TRADER_TOKEN) it binds to loopback only."""
    # Start-up allocates a long-lived heap (imports, schema) and frees almost nothing:
    # the collector would walk it again and again. Collected once, when built.
    gc.disable()
    settings = settings_from(db, config, host=host, port=port)
    check_binding(settings)
    configure_logging(settings)
    from interfaces.composition import build_system

    try:
        system = build_system(settings, record_specs=True, trading=demo)
    except IncompatibleStore as error:
        fail(str(error))
        return
    engine = system.trading_engine
    try:
        # The app is built before any thread starts: the runners and the transparency
        # follower (catching up a long log) would otherwise share the GIL with it.
        server = prepared_server(system, settings)
        system.projections.start()
        system.start_policies()
        if engine is not None:
            engine.start()
        run_server(server, system, settings)
    finally:
        if engine is not None:
            engine.stop()
        system.close()
        log.info("stopped cleanly")


def check_binding(settings: Settings) -> None:
    """No tokens: loopback only, said out loud. Elsewhere without tokens: refuse."""
    if Auth(settings).enabled:
        return
    if not is_loopback(settings.host):
        fail(
            f"refusing to serve on {settings.host} without tokens: set "
            "TRADESTATE_READER_TOKEN and TRADESTATE_TRADER_TOKEN, or bind to 127.0.0.1"
        )
    typer.echo(
        f"no tokens configured: serving on loopback ({settings.host}) only, and every "
        "caller may query, subscribe and mutate",
        err=True,
    )


def uvicorn_server(app: Any, settings: Settings) -> Any:
    """The uvicorn server for the API app, as `tradestate serve` runs it."""
    import uvicorn

    from interfaces.api.ws_send_timeout import send_timeout

    return uvicorn.Server(
        uvicorn.Config(
            send_timeout(settings.ws_send_timeout_seconds)(app),
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            ws_ping_interval=settings.ws_ping_interval_seconds,
            ws_ping_timeout=settings.ws_ping_timeout_seconds,
            ws_max_size=settings.max_request_bytes,
            timeout_graceful_shutdown=int(settings.shutdown_timeout_seconds),
            lifespan="on",
        )
    )


def prepared_server(system: System, settings: Settings) -> Any:
    """The uvicorn server of the API app, with start-up objects frozen."""
    from interfaces.api.app import create_app

    server = uvicorn_server(create_app(system, settings), settings)
    # Start-up objects live for the whole run: keep them out of the collector's
    # generations so GC pauses stay short under many subscribers.
    gc.collect()
    gc.freeze()
    gc.enable()
    return server


def run_server(server: Any, system: System, settings: Settings) -> None:
    log.info(
        "serving",
        url=f"http://{settings.host}:{settings.port}/graphql",
        database=system.url.describe(),
    )
    server.run()
