"""Answers of `account`, `accounts` and `pnlHistory`, kept until the rows they read
change (ADR 015, ADR 010's changed rows).

A day of 1-minute bars costs tens of milliseconds to read and convert; a chart asks
for the same window again and again. Answers are immutable objects that keep their
completed selections (ADR 009), so a repeat costs a lookup. While the accounts read
model stands still (one small statement: its slot, generation and tracking) every
answer stands. When it moved, the view asks for the `accounts` and `pnl_bars` rows
whose `as_of` is past the highest it has seen (one statement each) and drops only
the answers of the accounts those rows belong to. Quotes of instruments an account
does not hold, and every other account's fills, leave its answers standing. A
changed slot or generation (a rebuild) drops everything."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from infrastructure.readmodels.account_queries import AccountReads
from infrastructure.readmodels.queries import ReadModels
from interfaces.api.execution import remember_completions

T = TypeVar("T")
MAX_ANSWERS = 256
EVERY = object()  # the account of an answer that reads every account


class AccountsView:
    def __init__(self, read: ReadModels, accounts: AccountReads | None = None) -> None:
        self._read = read
        self._accounts = accounts or AccountReads(read.engine)
        self._lock = threading.Lock()  # guards the answers, their epoch and the version
        self._moving = threading.Lock()  # one reader of changed rows at a time
        self._version: Any = None
        self._mark: tuple[str, int, int] | None = None
        self._answers: dict[Hashable, tuple[Any, Any]] = {}  # key -> (account, answer)
        self._epoch = 0  # moves whenever answers are dropped

    def answer(
        self, key: Hashable, compute: Callable[[], list[T]], account: Any = EVERY
    ) -> list[T]:
        """The answer for `key`, computed (and kept) unless kept since the rows of
        `account` last changed (`EVERY`: since any accounts row changed)."""
        version = self._read.version(["accounts"])
        if version != self._version:
            self._moved(version)
        with self._lock:
            epoch = self._epoch
            found = self._answers.get(key)
        if found is not None:
            return found[1]
        # Rows read after the changes were applied are at least as new: never staler.
        answer = [remember_completions(item) for item in compute()]
        with self._lock:
            if epoch == self._epoch:
                if len(self._answers) >= MAX_ANSWERS:
                    self._answers.clear()
                self._answers[key] = (account, answer)
        return answer

    def _moved(self, version: Any) -> None:
        """Drop the answers of the accounts whose rows changed since the marks."""
        with self._moving:
            if version == self._version:
                return  # another request caught up meanwhile
            changes = self._accounts.changes(self._mark)
            with self._lock:
                if changes.complete:
                    self._answers.clear()
                    self._epoch += 1
                elif changes.accounts:
                    self._answers = {
                        key: kept
                        for key, kept in self._answers.items()
                        if kept[0] is not EVERY and kept[0] not in changes.accounts
                    }
                    self._epoch += 1
                self._mark = changes.mark
                self._version = version
