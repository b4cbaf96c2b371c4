"""The trader's dashboard: a page on the public GraphQL API, served at ``/dashboard``.

Its sources are in ``frontend/`` (TypeScript, Preact, graphql-ws, lightweight-charts,
built by Vite); ``build.py`` builds them at package build time into ``static/dist``
(gitignored, shipped as package data), so the page needs no internet.  The page
talks to the server through ``/graphql`` only (ADR 016).

``dashboard_routes()`` gives the Litestar handlers: ``GET /dashboard`` (the page),
``GET /`` (a redirect to it) and the hashed bundles under ``/dashboard/assets``.
None needs a token: the page asks for one and sends it with every operation.
"""

from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
DIST_DIR = PACKAGE_DIR / "static" / "dist"
DASHBOARD_PATH = "/dashboard"
ASSETS_PATH = "/dashboard/assets"

__all__ = ["DASHBOARD_PATH", "DIST_DIR", "assets_available", "dashboard_routes"]


def assets_available() -> bool:
    """True when the built page is present."""
    return (DIST_DIR / "index.html").is_file() and (DIST_DIR / "assets").is_dir()


def dashboard_routes() -> list[Any]:
    """The page, the redirect from ``/`` and the static bundles, for Litestar."""
    from litestar import MediaType, Response, get
    from litestar.datastructures import CacheControlHeader
    from litestar.response import Redirect
    from litestar.static_files import create_static_files_router

    page = (DIST_DIR / "index.html").read_text("utf-8")

    @get(DASHBOARD_PATH, include_in_schema=False, media_type=MediaType.HTML)
    async def dashboard() -> Response[str]:
        return Response(page, media_type=MediaType.HTML, headers={"Cache-Control": "no-cache"})

    @get("/", include_in_schema=False)
    async def root() -> Redirect:
        return Redirect(path=DASHBOARD_PATH)

    assets = create_static_files_router(
        path=ASSETS_PATH,
        directories=[DIST_DIR / "assets"],
        name="dashboard-assets",
        include_in_schema=False,
        # File names carry their content hash: cache them for a year.
        cache_control=CacheControlHeader(max_age=31_536_000, public=True),
    )
    return [dashboard, root, assets]
