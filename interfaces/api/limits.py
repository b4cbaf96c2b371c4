"""Limits: list arguments capped (refused beyond, never clamped), document size
limited by depth, aliases and tokens. The request body size is capped by the
Litestar app (`request_max_body_size`)."""

from __future__ import annotations

from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.extensions.base_extension import SchemaExtension

from application.inputs import MAX_QUOTES_PER_BATCH
from domain.errors import BadInput
from infrastructure.settings import Settings

MAX_LIMIT = 1_000
MAX_THROTTLE_MS = 60_000
MAX_INSTRUMENTS = 1_000


def check_limit(value: int, field: str = "limit", maximum: int = MAX_LIMIT) -> int:
    if not 1 <= value <= maximum:
        raise BadInput(f"{field} must be within 1..{maximum} (got {value})", field=field)
    return value


def check_quotes(count: int) -> None:
    if count > MAX_QUOTES_PER_BATCH:
        raise BadInput(
            f"at most {MAX_QUOTES_PER_BATCH} quotes per batch (got {count})", field="quotes"
        )


def check_min_sequence(value: int | None) -> int | None:
    if value is not None and value < 0:
        raise BadInput("minSequence must not be negative", field="minSequence")
    return value


def check_list(values: list[str] | None, field: str) -> list[str] | None:
    if values is not None and len(values) > MAX_INSTRUMENTS:
        raise BadInput(f"{field} takes at most {MAX_INSTRUMENTS} values", field=field)
    return values


def document_limits(settings: Settings) -> list[SchemaExtension]:
    return [
        QueryDepthLimiter(max_depth=settings.graphql_max_depth),
        MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases),
        MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
    ]
