"""The served schema is a compatible superset of the shared contract."""

from __future__ import annotations

from typing import cast

import pytest
from graphql import (
    IntrospectionQuery,
    build_client_schema,
    build_schema,
    find_breaking_changes,
    get_introspection_query,
)

from tests.e2e.server import Server, contract_sdl

pytestmark = pytest.mark.e2e


def test_served_schema_is_a_compatible_superset_of_the_contract(server: Server) -> None:
    introspection = server.data(get_introspection_query(descriptions=True))
    served = build_client_schema(cast(IntrospectionQuery, introspection))
    contract = build_schema(contract_sdl())
    assert find_breaking_changes(contract, served) == []


def test_graphql_fields_are_documented(server: Server) -> None:
    introspection = server.data(get_introspection_query(descriptions=True))
    served = build_client_schema(cast(IntrospectionQuery, introspection))
    for root in (served.query_type, served.mutation_type, served.subscription_type):
        assert root is not None
        undocumented = [name for name, field in root.fields.items() if not field.description]
        assert undocumented == [], f"{root.name} fields without a description: {undocumented}"
