"""Domain exceptions. Each carries the API error code it maps to."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; nothing was appended."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadInput(DomainError):
    code = "BAD_USER_INPUT"


class Conflict(DomainError):
    code = "CONFLICT"


class NotFound(DomainError):
    code = "NOT_FOUND"


class Unavailable(DomainError):
    code = "UNAVAILABLE"


ECHO_LIMIT = 40


def cut(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` cut to a short prefix, so a megabyte of input is never sent back or
    logged whole."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def echoed(value: object, limit: int = ECHO_LIMIT) -> str:
    """A client's value as an error message shows it: repr'd, cut to a short prefix."""
    return cut(repr(value), limit)
