"""Hypothesis profiles for the property tests.

`quick` (the default) keeps the whole folder under a minute on two shared
cores; `thorough` runs ten times the examples (CI nightly, or by hand):

    TRADESTATE_HYPOTHESIS_PROFILE=thorough pytest tests/property
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "quick",
    max_examples=100,
    print_blob=True,
    deadline=None,  # timings are the bench suite's job; a loaded CI machine is not a failure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("thorough", parent=settings.get_profile("quick"), max_examples=1000)
settings.load_profile(os.environ.get("TRADESTATE_HYPOTHESIS_PROFILE", "quick"))


@pytest.fixture(scope="session")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where store-backed examples put their SQLite files (each removes its own)."""
    return tmp_path_factory.mktemp("property-stores")
