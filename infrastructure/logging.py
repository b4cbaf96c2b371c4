"""Structured logging (structlog): JSON in production, readable at a terminal.

`configure_logging(settings)` is called once by the process entry point
(`tradestate serve`); the standard library's loggers (uvicorn, strawberry,
eventsourcing) are routed through the same renderer.
"""

from __future__ import annotations

import logging
import sys

import structlog

from infrastructure.settings import Settings

_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def wants_json(settings: Settings) -> bool:
    if settings.log_format == "json":
        return True
    if settings.log_format == "console":
        return False
    return not sys.stderr.isatty()


def configure_logging(settings: Settings) -> None:
    """Route structlog and stdlib logging to stderr in one format."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if wants_json(settings)
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            *_SHARED,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Access lines carry query strings; the Authorization header is never logged.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # At DEBUG the WebSocket protocol logs handshake headers and frames, tokens
    # (Authorization, connection_init payload) included: never below INFO.
    logging.getLogger("uvicorn.error").setLevel(max(logging.INFO, root.level))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
