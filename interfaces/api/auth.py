"""Bearer-token auth with two roles: reader (query, subscribe) and trader (also mutate).

HTTP: `Authorization: Bearer T`. WebSocket: the same header on the handshake,
or `{"authorization": "Bearer T"}` in the connection_init payload. With no
tokens configured every caller is a trader; `tradestate serve` then binds
only to a loopback address. Tokens are compared in constant time and never
logged.
"""

from __future__ import annotations

import hmac
import ipaddress
from enum import IntEnum
from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from infrastructure.settings import Settings
from interfaces.api.errors import ApiError


class Role(IntEnum):
    READER = 1
    TRADER = 2


class Auth:
    def __init__(self, settings: Settings) -> None:
        self._reader = _secret(settings.reader_token)
        self._trader = _secret(settings.trader_token)

    @property
    def enabled(self) -> bool:
        return bool(self._reader or self._trader)

    def role_for(self, authorization: str | None) -> Role | None:
        """The role a header value grants (None: no valid token)."""
        if not self.enabled:
            return Role.TRADER
        token = _bearer(authorization)
        if token is None:
            return None
        if self._trader and hmac.compare_digest(token.encode(), self._trader.encode()):
            return Role.TRADER
        if self._reader and hmac.compare_digest(token.encode(), self._reader.encode()):
            return Role.READER
        return None

    def role_in(self, context: dict[str, Any]) -> Role | None:
        """The role of the caller of an operation (HTTP request or WebSocket)."""
        return self.role_for(authorization_in(context))

    def require(self, context: dict[str, Any], role: Role) -> None:
        have = self.role_in(context)
        if have is None:
            raise ApiError(
                "a valid bearer token is required (Authorization: Bearer <token>)",
                "UNAUTHENTICATED",
            )
        if have < role:
            raise ApiError("this operation needs the trader token", "FORBIDDEN")


def authorization_in(context: dict[str, Any]) -> str | None:
    connection = context.get("request") or context.get("socket")
    header = connection.headers.get("authorization") if connection is not None else None
    if header:
        return str(header)
    params = context.get("connection_params") or {}
    if isinstance(params, dict):
        value = params.get("authorization") or params.get("Authorization")
        if isinstance(value, str):
            return value
    return None


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    text = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    return text or None


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CanRead(BasePermission):
    """Query and subscribe: the reader or the trader token."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context["api"].auth.require(info.context, Role.READER)
        return True


class CanTrade(BasePermission):
    """Mutate: the trader token."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context["api"].auth.require(info.context, Role.TRADER)
        return True
