"""The GraphQL API (Strawberry on Litestar): `create_app(system, settings)` in app.py.

Modules: types/inputs/scalars (the contract's shapes), queries/mutations/
subscriptions (the roots), convert (rows and aggregates to types), events (the
log as Events), errors (codes, masking), auth (bearer tokens, roles), limits,
context (what resolvers reach), health (/health, /ready, /metrics), schema.
"""
