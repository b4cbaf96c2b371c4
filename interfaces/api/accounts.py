"""GraphQL types and fields of accounts and P&L history (SPEC section 13).

`Query` and `Subscription` inherit `AccountQuery` and `AccountSubscription`.
Rows in, objects out: translation only (the reads are infrastructure's).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from domain.values import check_symbol
from infrastructure.readmodels.account_queries import session_start
from interfaces.api.accounts_view import EVERY
from interfaces.api.auth import CanRead
from interfaces.api.context import Api
from interfaces.api.limits import check_after, check_limit, check_min_sequence
from interfaces.api.resumable import Sent, registered, watch_from_here

AS_OF = "The sequence of the last event this reflects."
MinSequence = Annotated[
    int | None,
    strawberry.argument(description="Wait (bounded) until the read model has applied this."),
]


@strawberry.type(description="An account's P&L and exposure in one currency.")
class AccountTotals:
    currency: str | None = strawberry.field(
        description="The quote currency; null for instruments with no spec (money to 8 dp)."
    )
    realized_pnl: Decimal = strawberry.field(description="Realized P&L, net of commission.")
    unrealized_pnl: Decimal = strawberry.field(description="Open positions at their marks.")
    total_pnl: Decimal = strawberry.field(description="realizedPnl + unrealizedPnl.")
    commission_paid: Decimal
    today_pnl: Decimal = strawberry.field(
        description="totalPnl less its value at the session start (UTC midnight by default)."
    )
    gross_exposure: Decimal = strawberry.field(description="Sum of |quantity x mark|.")
    net_exposure: Decimal = strawberry.field(description="Sum of quantity x mark.")
    open_positions: int
    as_of: int = strawberry.field(description=AS_OF)


@strawberry.type(description="An account: its totals, one per currency.")
class Account:
    id: str
    as_of: int = strawberry.field(description=AS_OF)
    totals: list[AccountTotals]


@strawberry.enum(description="The width of a P&L bar; 1 minute is stored, the rest combined.")
class PnlInterval(Enum):
    ONE_MINUTE = 60
    FIVE_MINUTES = 300
    FIFTEEN_MINUTES = 900
    ONE_HOUR = 3600
    ONE_DAY = 86400


@strawberry.type(description="Open/high/low/close of an account's total P&L over an interval.")
class PnlBar:
    account: str
    currency: str | None
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    as_of: int = strawberry.field(description=AS_OF)


def totals(row: dict[str, Any]) -> AccountTotals:
    return AccountTotals(**{f: row[f] for f in TOTALS_FIELDS})


TOTALS_FIELDS = (
    "currency", "realized_pnl", "unrealized_pnl", "total_pnl", "commission_paid", "today_pnl",
    "gross_exposure", "net_exposure", "open_positions", "as_of",
)  # fmt: skip


def accounts_of(rows: list[dict[str, Any]]) -> list[Account]:
    """Rows in (account, currency) order, grouped into accounts."""
    found: dict[str, Account] = {}
    for row in rows:
        account = found.get(row["account"])
        if account is None:
            account = found[row["account"]] = Account(id=row["account"], as_of=0, totals=[])
        account.totals.append(totals(row))
        account.as_of = max(account.as_of, row["as_of"])
    return list(found.values())


def bar(row: dict[str, Any]) -> PnlBar:
    return PnlBar(
        account=row["account"],
        currency=row["currency"] or None,
        start=row["start"],
        open=row["open"],
        high=row["high"],
        low=row["low"],
        close=row["close"],
        as_of=row["as_of"],
    )


def api_of(info: Info) -> Api:
    return info.context["api"]


def read_accounts(api: Api, account: str | None = None) -> list[Account]:
    since = session_start(datetime.now(UTC), api.settings.session_start_utc)
    return api.accounts_view.answer(
        ("accounts", account, since),
        lambda: accounts_of(api.accounts.accounts(since, account)),
        EVERY if account is None else account,
    )


def read_bars(api: Api, account: str, *args: Any) -> list[PnlBar]:
    return api.accounts_view.answer(
        ("bars", account, *args),
        lambda: [bar(row) for row in api.accounts.bars(account, *args)],
        account,
    )


@strawberry.type
class AccountQuery:
    @strawberry.field(
        permission_classes=[CanRead], description="One account's totals, per currency."
    )
    async def account(
        self, info: Info, id: str, min_sequence: MinSequence = None
    ) -> Account | None:
        api = api_of(info)
        check_symbol(id, "id")
        found = await api.query(
            ["accounts"], check_min_sequence(min_sequence), read_accounts, api, id
        )
        return found[0] if found else None

    @strawberry.field(permission_classes=[CanRead], description="Every account, by id.")
    async def accounts(self, info: Info, min_sequence: MinSequence = None) -> list[Account]:
        api = api_of(info)
        return await api.query(["accounts"], check_min_sequence(min_sequence), read_accounts, api)

    @strawberry.field(
        permission_classes=[CanRead],
        description="Bars of an account's total P&L from `from` (inclusive) to `to` "
        "(exclusive), in time order per currency: the first `limit` (at most 1000); page "
        "on by moving `from` past the last bar's start.",
    )
    async def pnl_history(
        self,
        info: Info,
        account: str,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        interval: PnlInterval = PnlInterval.ONE_MINUTE,
        currency: str | None = None,
        limit: int | None = 1000,
    ) -> list[PnlBar]:
        api = api_of(info)
        check_symbol(account, "account")
        limit = check_limit(1000 if limit is None else limit)
        return await api.run(
            read_bars, api, account, from_, to, currency, interval.value, limit, lane="accounts"
        )


@strawberry.type
class AccountSubscription:
    @strawberry.subscription(
        permission_classes=[CanRead],
        description="An account after its totals changed. With `after`, first every account "
        "whose asOf is past it, then live changes.",
    )
    async def account_updates(
        self, info: Info, account: str | None = None, after: int | None = None
    ) -> AsyncGenerator[Account, None]:
        api = api_of(info)
        if account is not None:
            check_symbol(account, "account")
        check_after(after)
        sent = Sent(after)
        async with registered(
            api,
            "accounts",
            lambda c: c.row["account"],
            lambda c: c.table == "accounts" and (account is None or c.row["account"] == account),
        ) as live:
            if after is not None:
                await watch_from_here(api, "accounts")
                for found in await api.run(read_accounts, api, account, lane="accounts"):
                    if sent.fresh(found.id, found.as_of):
                        yield found
            async for change in live:
                name = change.row["account"]
                if not sent.fresh(name, change.row["as_of"]):
                    continue
                for found in await api.run(read_accounts, api, name, lane="accounts"):
                    sent.mark(name, found.as_of)
                    yield found
