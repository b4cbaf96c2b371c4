"""The offline GraphiQL playground of the tradestate GraphQL API.

GraphiQL 3.8 and React 18 UMD bundles are served by tradestate itself (never a
CDN).  They are not committed: the package build fetches them from the npm
registry by ``package-lock.json`` into ``static/vendor/`` (see ``build.py``).

- ``playground_html()`` renders the page (template ``graphiql.html``).
- ``playground_static_router()`` serves ``static/vendor`` with Litestar.
- ``interfaces.playground.litestar.make_playground_controller`` wires the page
  into strawberry's Litestar GraphQL controller at ``/graphql``.

This module imports Litestar lazily, so ``build.py`` stays importable alone.
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from litestar import Router

__all__ = [
    "ASSETS_PATH",
    "EXAMPLE_TABS",
    "GRAPHQL_PATH",
    "STATIC_DIR",
    "TEMPLATE",
    "VENDOR_DIR",
    "assets_available",
    "playground_html",
    "playground_static_router",
]

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR: Path = PACKAGE_DIR / "static"
VENDOR_DIR: Path = STATIC_DIR / "vendor"
TEMPLATE: Path = PACKAGE_DIR / "graphiql.html"

GRAPHQL_PATH = "/graphql"
ASSETS_PATH = "/playground/assets"
TITLE = "tradestate"

OPEN_POSITIONS_QUERY = """\
# tradestate: open positions. Run: Ctrl-Enter or ▶.
# Token? Put {"Authorization": "Bearer <token>"}
# in the Headers pane below.
query OpenPositions {
  positions(status: OPEN) {
    id
    account
    instrument
    quantity
    averagePrice
    realizedPnl
    unrealizedPnl
    asOf
  }
}
"""

LIVE_EVENTS_SUBSCRIPTION = """\
# tradestate: the event log, live over WebSocket:
# stored events after sequence 0 first, then new
# ones as they are written. The Headers pane's
# Authorization is sent with the subscription too.
subscription LiveEvents {
  events(after: 0) {
    sequence
    type
    aggregateId
    timestamp
    data
  }
}
"""

EXAMPLE_TABS: list[dict[str, str]] = [
    {"query": OPEN_POSITIONS_QUERY},
    {"query": LIVE_EVENTS_SUBSCRIPTION},
]

_VENDOR_FILES = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql.min.css",
    "plugin-explorer.umd.js",
    "plugin-explorer.css",
)


def assets_available() -> bool:
    """True when the bundles the page loads are present in VENDOR_DIR."""
    return all((VENDOR_DIR / name).is_file() for name in _VENDOR_FILES)


def _assets_version() -> str:
    """A cache-busting token: the lockfile hash recorded by the build."""
    try:
        manifest: dict[str, Any] = json.loads((VENDOR_DIR / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        return ""
    return str(manifest.get("lock_sha256", ""))[:12]


def _script_json(value: object) -> str:
    """JSON safe to embed inside a <script> element."""
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


@lru_cache(maxsize=16)
def _render(graphql_path: str, assets_path: str, version: str) -> str:
    assets = assets_path.rstrip("/")
    config = {
        "graphqlPath": graphql_path,
        "assetsPath": assets,
        "title": TITLE,
        "tabs": EXAMPLE_TABS,
    }
    return (
        TEMPLATE.read_text("utf-8")
        .replace("{{ASSETS}}", html.escape(assets, quote=True))
        .replace("{{VERSION}}", f"?v={version}" if version else "")
        .replace("{{CONFIG_JSON}}", _script_json(config))
    )


def playground_html(graphql_path: str = GRAPHQL_PATH, assets_path: str = ASSETS_PATH) -> str:
    """The GraphiQL page, pointed at graphql_path (HTTP and WebSocket, same origin)
    and loading its bundles from assets_path (see playground_static_router)."""
    return _render(graphql_path, assets_path, _assets_version())


def playground_static_router(assets_path: str = ASSETS_PATH, **kwargs: Any) -> Router:
    """A Litestar router serving the vendored bundles (STATIC_DIR/vendor) at assets_path.

    Extra keyword arguments go to ``litestar.static_files.create_static_files_router``
    (e.g. ``guards``).  The bundles are public third-party code: do not put them
    behind the API's bearer-token auth, or browsers cannot load the page.
    """
    from litestar.datastructures import CacheControlHeader
    from litestar.static_files import create_static_files_router

    kwargs.setdefault("name", "playground-assets")
    kwargs.setdefault("include_in_schema", False)
    # URLs carry ?v=<lockfile hash>, so clients may cache for a day.
    kwargs.setdefault("cache_control", CacheControlHeader(max_age=86400))
    return create_static_files_router(path=assets_path, directories=[VENDOR_DIR], **kwargs)
