"""Every command of tradestate, one service per kind, side by side.

A mutation, a CLI command or a policy calls `commands.<kind>.<command>(...)`:
`commands.orders.record_fill` is `OrderCommands.record_fill` in orders.py, which
loads, acts and saves through the `Store` (store.py). No service inherits
another; one that needs another receives it here (quotes and orders check
increments through `instruments`; requested reconciliations run through
`reconciliation`). The composition root (interfaces/composition.py) builds this
once per process, with the ports in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from application.instruments import InstrumentCommands
from application.monitors import MonitorCommands
from application.orders import OrderCommands
from application.ports import BrokerPositions, BrokerPresence, MarketPrices, PositionDirectory
from application.quotes import QuoteCommands
from application.reconciliation import ReconciliationCommands
from application.reconciliation_requests import ReconciliationRequestCommands
from application.signals import SignalCommands
from application.store import Store
from domain.instruments import SpecTable


@dataclass(frozen=True)
class Commands:
    store: Store
    instruments: InstrumentCommands
    quotes: QuoteCommands
    orders: OrderCommands
    signals: SignalCommands
    monitors: MonitorCommands
    reconciliation: ReconciliationCommands
    reconciliation_requests: ReconciliationRequestCommands

    @classmethod
    def build(
        cls,
        store: Store,
        *,
        instrument_specs: SpecTable | None = None,
        broker: BrokerPositions | None = None,
        position_directory: PositionDirectory | None = None,
        market_prices: MarketPrices | None = None,
        broker_presence: BrokerPresence | None = None,
        default_account: str = "default",
        default_signal_quantity: Decimal = Decimal(1),
    ) -> Commands:
        """The services on `store`, each given the ports it uses (None: absent here)."""
        instruments = InstrumentCommands(store, instrument_specs)
        reconciliation = ReconciliationCommands(
            store,
            broker=broker,
            position_directory=position_directory,
            market_prices=market_prices,
        )
        return cls(
            store=store,
            instruments=instruments,
            quotes=QuoteCommands(store, instruments),
            orders=OrderCommands(store, instruments),
            signals=SignalCommands(
                store,
                default_account=default_account,
                default_signal_quantity=default_signal_quantity,
            ),
            monitors=MonitorCommands(store, market_prices),
            reconciliation=reconciliation,
            reconciliation_requests=ReconciliationRequestCommands(
                store, reconciliation, broker_presence
            ),
        )
