"""What one `python -m bench` run was asked for."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

N = TypeVar("N", int, float)


@dataclass(frozen=True)
class Run:
    smoke: bool
    postgres_url: str | None
    cache_dir: Path

    @property
    def engines(self) -> list[str]:
        return ["sqlite", "postgres"] if self.postgres_url else ["sqlite"]

    def size(self, full: N, smoke: N) -> N:
        return smoke if self.smoke else full
