"""The expanded cost of a GraphQL document, measured in time linear in its size.

A document's fragments can spread each other: each fragment spreading the next
twice doubles the work at every level, so 20 levels of 758 bytes expand to a
million fields, and a walk that follows spreads (strawberry's depth limiter,
graphql-core's validation) takes seconds to minutes. Here each fragment's cost
is computed once and reused wherever it is spread, so the analysis is linear in
the document's size whatever it expands to; counts saturate just past the budget
so no number grows without bound. A fragment that spreads itself (directly or
through others) is a cycle, found on the way.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


@dataclass(frozen=True)
class Cost:
    """Field selections once fragments are expanded, and the deepest nesting of
    selection sets (`{ positions { instrument } }` is 1 deep); introspection
    (`__schema`, `__type`) adds no depth, as with strawberry's depth limiter, but
    its fields count."""

    fields: int
    depth: int


class FragmentCycle(Exception):
    """A fragment spreads itself, directly or through other fragments."""

    def __init__(self, name: str) -> None:
        super().__init__(f"fragment {name!r} spreads itself (a fragment cycle)")
        self.name = name


class _Walk:
    def __init__(self, document: DocumentNode, cap: int) -> None:
        self.cap = cap
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.costs: dict[str, Cost] = {}
        self.open: set[str] = set()

    def fragment(self, name: str) -> Cost:
        known = self.costs.get(name)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None:
            return Cost(0, 0)  # validation answers the unknown fragment
        if name in self.open:
            raise FragmentCycle(name)
        self.open.add(name)
        cost = self.selections(definition.selection_set)
        self.open.discard(name)
        self.costs[name] = cost
        return cost

    def selections(self, selection_set: SelectionSetNode | None) -> Cost:
        fields = depth = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                inner = self.selections(selection.selection_set)
                fields += 1 + inner.fields
                nested = selection.selection_set is not None
                if nested and not selection.name.value.startswith("__"):
                    depth = max(depth, 1 + inner.depth)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
                fields += inner.fields
                depth = max(depth, inner.depth)
            elif isinstance(selection, InlineFragmentNode):
                inner = self.selections(selection.selection_set)
                fields += inner.fields
                depth = max(depth, inner.depth)
            fields = min(fields, self.cap)
        return Cost(fields, depth)


def document_cost(document: DocumentNode, cap: int) -> Cost:
    """The cost of validating and running `document`: its operations' fields summed
    (and at least any one fragment's, used or not: validation walks them all), and
    the deepest operation; counts saturate at `cap`. Raises FragmentCycle."""
    walk = _Walk(document, cap)
    fields = depth = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            cost = walk.selections(definition.selection_set)
            fields = min(fields + cost.fields, cap)
            depth = max(depth, cost.depth)
        elif isinstance(definition, FragmentDefinitionNode):
            fields = max(fields, walk.fragment(definition.name.value).fields)
    return Cost(fields, depth)
