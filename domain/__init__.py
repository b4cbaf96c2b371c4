"""The pure domain: aggregates, events, value objects, upcasters, policies."""
