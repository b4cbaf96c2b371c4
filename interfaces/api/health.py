"""Operational endpoints: /health (liveness), /ready (database, projections), /metrics."""

from __future__ import annotations

from typing import Any

from litestar import Response, Router, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from infrastructure import metrics
from interfaces.api.context import Api


def health_router(api: Api) -> Router:
    @get("/health", sync_to_thread=False, include_in_schema=False)
    def health() -> dict[str, str]:
        """Liveness: the process serves requests."""
        return {"status": "ok"}

    @get("/ready", include_in_schema=False)
    async def ready() -> Response[dict[str, Any]]:
        """Readiness: the database answers and the projections run."""
        checks: dict[str, Any] = {}
        try:
            await api.run(_ping, api, lane="status")
            checks["database"] = "ok"
        except Exception as error:  # the reason matters to an operator, the trace does not
            checks["database"] = f"unreachable: {type(error).__name__}"
        try:
            checks["projections"] = await api.run(_projections, api, lane="status")
        except Exception as error:
            checks["projections"] = f"unknown: {type(error).__name__}"
        ok = checks["database"] == "ok" and checks["projections"] == "running"
        return Response(
            {"status": "ready" if ok else "not ready", "checks": checks},
            status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE,
        )

    @get("/metrics", include_in_schema=False)
    async def prometheus() -> Response[bytes]:
        """Prometheus text format, metrics named tradestate_*."""
        await api.run(_refresh, api, lane="status")
        return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)

    return Router(path="/", route_handlers=[health, ready, prometheus])


def _ping(api: Api) -> None:
    api.read.ping()


def _projections(api: Api) -> str:
    if api.projections is None:
        return "not configured"
    failed = [s.name for s in api.projections.status() if s.error]
    running = getattr(api.projections, "running", True)
    if failed:
        return f"failed: {', '.join(failed)}"
    return "running" if running else "stopped"


def _refresh(api: Api) -> None:
    """Gauges read at scrape time."""
    api.head_sequence()
    if api.projections is None:
        return
    for state in api.projections.status():
        metrics.PROJECTION_LAG.labels(state.name).set(state.lag)
        metrics.PROJECTION_SEQUENCE.labels(state.name).set(state.sequence)
        metrics.PROJECTION_ERRORS.labels(state.name).set(1 if state.error else 0)
