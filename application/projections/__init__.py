"""Projection logic: how each event changes the read-model rows.

Pure of SQL: a projection reads and writes rows (dicts) through a RowStore
port; infrastructure runs it over the log, batching rows and tracking in one
transaction.
"""

from application.projections.accounts import AccountsProjection
from application.projections.base import Projection, RowStore
from application.projections.monitors import MonitorsProjection
from application.projections.orders import OrdersProjection
from application.projections.positions import PositionsProjection
from application.projections.quotes import QuotesProjection
from application.projections.reconciliations import ReconciliationsProjection
from application.projections.signals import SignalsProjection
from application.projections.trades import TradesProjection

ALL_PROJECTIONS: tuple[type[Projection], ...] = (
    PositionsProjection,
    SignalsProjection,
    OrdersProjection,
    TradesProjection,
    MonitorsProjection,
    QuotesProjection,
    ReconciliationsProjection,
    AccountsProjection,
)

__all__ = ["ALL_PROJECTIONS", "Projection", "RowStore"]
