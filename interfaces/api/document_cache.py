"""Parsed and validated documents, kept across requests: parsing and validating a
document cost more than answering most queries (a dashboard sends the same few
documents again and again). strawberry's bounded LRU caches (128 documents each,
keyed by the text / the parsed document), with one change to the parser's."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import ParserCache, ValidationCache

__all__ = ["CachedParse", "CheckedValidation"]


class CachedParse(ParserCache):
    """strawberry's ParserCache, but a document that does not parse (a syntax error,
    nesting past the parser) is left to strawberry's own parse step, which answers
    it as a coded GraphQL error: raised from this hook, it would escape the
    operation and lose its code."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if isinstance(context.query, str):
            try:
                document = self.cached_parse_document(context.query, **context.parse_options)
            except Exception:  # noqa: BLE001 - strawberry's parse step answers it
                pass
            else:
                context.graphql_document = document
        yield


class CheckedValidation(ValidationCache):
    """strawberry's ValidationCache, skipped when an earlier check (limits.DocumentCost)
    already refused the document: validating a fragment bomb is what must not run."""

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors is not None:
            yield
            return
        yield from super().on_validate()
