"""Answers of `account`, `accounts` and `pnlHistory`, kept while the accounts read
model stands still (one small query says so: its slot, generation and tracking).

A day of 1-minute bars costs tens of milliseconds to read and convert; a chart asks
for the same window again and again. Answers are immutable objects that keep their
completed selections (ADR 009), so a repeat costs a lookup. Any change to the
accounts read model (a fill, a quote of a held instrument) drops them all."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from infrastructure.readmodels.queries import ReadModels
from interfaces.api.execution import remember_completions

T = TypeVar("T")
MAX_ANSWERS = 256


class AccountsView:
    def __init__(self, read: ReadModels) -> None:
        self._read = read
        self._lock = threading.Lock()
        self._version: Any = None
        self._answers: dict[Hashable, Any] = {}

    def answer(self, key: Hashable, compute: Callable[[], list[T]]) -> list[T]:
        """The answer for `key`, computed (and kept) unless kept since the last change."""
        version = self._read.version(["accounts"])
        with self._lock:
            if version != self._version:
                self._answers.clear()
                self._version = version
            found = self._answers.get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        # Rows read after `version` are at least as new as it: never staler than the key.
        found = [remember_completions(item) for item in compute()]
        with self._lock:
            if version == self._version:
                if len(self._answers) >= MAX_ANSWERS:
                    self._answers.clear()
                self._answers[key] = found
        return found
