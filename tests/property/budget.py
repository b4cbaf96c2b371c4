"""Example budgets as shares of the loaded profile's `max_examples`."""

from __future__ import annotations

from hypothesis import settings


def share(fraction: float, *, store: bool = False, least: int = 3) -> settings:
    """Settings running `fraction` of the profile's examples; store-backed tests
    get no deadline (a shared disk makes single examples slow now and then)."""
    profile = settings.default
    assert profile is not None  # hypothesis always has a loaded profile
    examples = max(least, round(profile.max_examples * fraction))
    if store:
        return settings(max_examples=examples, deadline=None)
    return settings(max_examples=examples)
