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
