"""Process policies: log followers that turn recorded events into commands, run in
every deployment (not only the demo engine), one active copy per store.

- `monitors` — evaluates ACTIVE monitors on every ingested quote (SPEC section 3);
- `reconciliation` — runs reconciliations requested through the store, in the
  process that holds the broker.
"""
