"""Serve the offline playground from strawberry's Litestar GraphQL controller.

strawberry's ``make_graphql_controller(...)`` answers ``GET /graphql`` from a
browser (``Accept: text/html``, no ``query`` parameter) with its own GraphiQL
page, which loads its scripts from a public CDN.  Its ``render_graphql_ide``
method is the hook: overriding it returns our page instead, while POST, GET
with ``?query=`` and the WebSocket endpoint stay strawberry's.

Usage for the API (``interfaces/api``)::

    from interfaces.playground.litestar import make_playground_controller
    from interfaces.playground import playground_static_router

    GraphQLController = make_playground_controller(
        schema,
        path="/graphql",
        context_getter=get_context,        # any make_graphql_controller kwarg
        keep_alive=True,
        allowed_origins=[...],
    )
    app = Litestar(route_handlers=[GraphQLController, playground_static_router(), ...])

or, when you already subclass the controller yourself, decorate/derive it::

    controller = with_playground(MyGraphQLController, graphql_path="/graphql")

Notes for auth:
- the page (GET /graphql with Accept: text/html) and the bundles under
  ``/playground/assets`` must be reachable without a bearer token; a browser
  cannot send one before the page is loaded.  strawberry resolves the
  ``context_getter`` dependency *before* it decides to render the page, so a
  context getter must not reject requests without a token; enforce auth when
  operations execute (e.g. in a schema extension/permission or in
  ``execute_operation``), or the page will 401.
- users put ``{"Authorization": "Bearer T"}`` in GraphiQL's Headers pane; HTTP
  requests carry it as a header and subscriptions carry it as
  ``{"authorization": "Bearer T"}`` in the ``connection_init`` payload.
"""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request, Response
from litestar.enums import MediaType
from strawberry.litestar import make_graphql_controller
from strawberry.litestar.controller import GraphQLController

from . import ASSETS_PATH, GRAPHQL_PATH, playground_html

__all__ = ["make_playground_controller", "with_playground"]

C = TypeVar("C", bound=type[GraphQLController])


def with_playground(
    controller: C,
    *,
    graphql_path: str = GRAPHQL_PATH,
    assets_path: str = ASSETS_PATH,
) -> C:
    """A subclass of a strawberry Litestar controller class whose IDE page is ours.

    graphql_path is the URL path the page sends operations to (the controller's
    own path, as seen by the browser); assets_path is where
    ``playground_static_router`` serves the bundles.
    """

    class PlaygroundGraphQLController(controller):  # type: ignore[valid-type,misc]
        # Any truthy value: strawberry renders the IDE only when graphql_ide is set.
        graphql_ide = "graphiql"

        async def render_graphql_ide(self, request: Request[Any, Any, Any]) -> Response[str]:
            return Response(
                playground_html(graphql_path=graphql_path, assets_path=assets_path),
                media_type=MediaType.HTML,
                headers={"Cache-Control": "no-cache"},
            )

    return PlaygroundGraphQLController  # type: ignore[return-value]


def make_playground_controller(
    schema: Any,
    path: str = GRAPHQL_PATH,
    *,
    assets_path: str = ASSETS_PATH,
    playground: bool = True,
    **kwargs: Any,
) -> type[GraphQLController]:
    """``strawberry.litestar.make_graphql_controller(schema, path, **kwargs)`` with
    the offline tradestate playground as its browser page.

    playground=False serves no page at all (GET from a browser gets 404).  The
    ``graphql_ide`` kwarg is not accepted: the page is always ours or none.
    """
    if "graphql_ide" in kwargs:
        raise TypeError("make_playground_controller chooses graphql_ide itself; use playground=")
    if not playground:
        return make_graphql_controller(schema, path=path, graphql_ide=None, **kwargs)
    base = make_graphql_controller(schema, path=path, graphql_ide="graphiql", **kwargs)
    return with_playground(base, graphql_path=path or "/", assets_path=assets_path)
