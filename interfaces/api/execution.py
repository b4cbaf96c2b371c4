"""The GraphQL execution context: graphql-core's executor with two changes.

1. Plain selections complete in one step. A selection set whose fields are all
   plain — strawberry's default attribute resolver, no arguments, a scalar or
   enum type, one node per response key — is completed by reading each attribute
   and coercing it with the field type's own output coercion, instead of running
   graphql-core's per-field machinery (resolve info, argument values, awaitable
   checks, leaf completion) for every field of every row; a list of such objects
   is completed in one loop. A list of 1 000 positions has 12 000 such fields.
   Anything else (a resolver, arguments, objects, middleware, a null in a non-null
   field, a coercion that fails) takes graphql-core's path, so results and errors
   are the same.

   An object handed to `remember_completions` keeps its completed selections,
   one per selection shape: the read-model views hand out the same immutable
   objects until their rows change, so a row that did not change is not
   coerced again (12 leaves of a position cost ~6 µs; a hit costs a lookup).

2. Each subscription event executes with its own sub-field memo: graphql-core 3.3
   builds per-event executors as shallow copies that share the subscription's memo,
   whose keys are ids of per-event objects; it never hits and grows by ~1.2 KB per
   event per open subscription until the subscription ends (an id reused after
   garbage collection could even hit a stale entry). tests/e2e/test_memory.py
   catches it.
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any, NamedTuple, TypeVar, cast

from graphql import (
    GraphQLEnumType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)
from graphql.pyutils import Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

DEFINITION_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
T = TypeVar("T")

#: Where `remember_completions` keeps an object's completed selections.
COMPLETIONS = "_tradestate_completions"
#: Selection shapes remembered per object; more are completed each time.
MAX_SHAPES = 8


class PlainPlan(NamedTuple):
    """How to complete a plain selection: (response key, resolver, output coercion,
    non-null) per field, and the selection's shape (type, response keys and field
    names): equal shapes complete an object to equal results."""

    steps: tuple[tuple[str, Any, Any, bool], ...]
    shape: tuple[Any, ...]


Plan = PlainPlan | None


def remember_completions(item: T) -> T:
    """Let `item`'s completed plain selections be kept on it and reused: only for
    objects that never change (their fields' values and coercions fixed)."""
    item.__dict__[COMPLETIONS] = {}
    return item


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    #: Plain plans by the id of their grouped field set (set on first use).
    _plain_plans: dict[int, tuple[Any, Plan]]

    def build_per_event_executor(self, payload: Any) -> Any:
        # graphql-core's per-event executor is a copy of this one, so of this class
        executor = cast(ExecutionContext, super().build_per_event_executor(payload))
        executor._relevant_sub_fields = {}
        executor._plain_plans = {}
        return executor

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        plan = self._plain_plan(parent_type, grouped_field_set)
        if plan is not None:
            completed = _complete(plan, source_value)
            if completed is not None:
                return completed
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def complete_list_value(
        self,
        return_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        """A list of objects with a plain selection: one loop, no per-item machinery."""
        completed = self._plain_list(return_type, field_details_list, result)
        if completed is not None:
            return completed
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _plain_list(self, return_type: Any, field_details_list: Any, result: Any) -> Any:
        if type(result) is not list:
            return None
        item_type = return_type.of_type
        non_null = isinstance(item_type, GraphQLNonNull)
        object_type = item_type.of_type if non_null else item_type
        if not isinstance(object_type, GraphQLObjectType) or object_type.is_type_of is not None:
            return None
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(
            object_type, field_details_list
        )
        plan = None if new_defer_usages else self._plain_plan(object_type, grouped_field_set)
        if plan is None:
            return None
        completed: list[Any] = []
        for item in result:
            if item is None:
                if non_null:
                    return None  # graphql-core reports it
                completed.append(None)
                continue
            row = _complete(plan, item)
            if row is None:
                return None
            completed.append(row)
        return completed

    def _plain_plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Plan:
        plans: dict[int, tuple[Any, Plan]] | None = getattr(self, "_plain_plans", None)
        if plans is None:
            plans = self._plain_plans = {}
        cached = plans.get(id(grouped_field_set))
        if cached is not None and cached[0] is grouped_field_set:
            return cached[1]
        plan = self._plan(parent_type, grouped_field_set)
        # The set itself is kept with its plan, so its id cannot be reused meanwhile.
        plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> Plan:
        manager = self.middleware_manager
        if manager is not None and getattr(manager, "_middleware_resolvers", None):
            return None
        steps: list[tuple[str, Any, Any, bool]] = []
        shape: list[tuple[str, str]] = []
        for key, field_details_list in grouped_field_set.items():
            if len(field_details_list) != 1:
                return None
            node = field_details_list[0].node
            if node.arguments or node.selection_set is not None:
                return None
            name = node.name.value
            shape.append((key, name))
            if name == "__typename":
                steps.append((key, _typename(parent_type.name), _identity, True))
                continue
            field = parent_type.fields.get(name)
            if field is None or not getattr(field.resolve, "_is_default", False):
                return None
            type_ = field.type
            non_null = isinstance(type_, GraphQLNonNull)
            leaf = type_.of_type if non_null else type_
            if not isinstance(leaf, GraphQLScalarType | GraphQLEnumType):
                return None
            steps.append((key, _reader(field), leaf.coerce_output_value, non_null))
        return PlainPlan(tuple(steps), (parent_type.name, *shape))


def _complete(plan: PlainPlan, source: Any) -> dict[str, Any] | None:
    """The plain selection's values of `source`; None where graphql-core must answer
    (a null in a non-null field, a value its type cannot represent)."""
    remembered = getattr(source, COMPLETIONS, None)
    if remembered is None:
        return _completed(plan.steps, source)
    result = remembered.get(plan.shape)
    if result is None:
        result = _completed(plan.steps, source)
        if result is not None:
            if len(remembered) >= MAX_SHAPES:
                remembered.clear()
            remembered[plan.shape] = result
    return result


def _completed(steps: Any, source: Any) -> dict[str, Any] | None:
    result: dict[str, Any] = {}
    for key, read, coerce, non_null in steps:
        value = read(source, None)
        if value is None:
            if non_null:
                return None
            result[key] = None
            continue
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            return None
        result[key] = coerced
    return result


def _reader(field: Any) -> Any:
    """The field's default resolver; for strawberry's own default (`getattr` of the
    attribute), an attrgetter doing the same without the call chain."""
    definition = (field.extensions or {}).get(DEFINITION_BACKREF)
    if (
        definition is not None
        and not definition.base_resolver
        and definition.default_resolver is getattr
    ):
        get = attrgetter(definition.python_name)
        return lambda source, _info: get(source)
    return field.resolve


def _identity(value: Any) -> Any:
    return value


def _typename(name: str) -> Any:
    def resolve(_source: Any, _info: Any) -> str:
        return name

    return resolve
