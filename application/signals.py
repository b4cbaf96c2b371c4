"""Signal commands: generate, accept (places the order), reject, cancel, expire."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from application.inputs import OrderInput, SignalInput
from application.orders import new_order
from application.results import SignalResult
from application.retry import retrying
from application.store import Store
from domain.errors import Conflict
from domain.ids import signal_order_client_id
from domain.orders import Order
from domain.signals import Signal
from domain.values import OrderType, Side, check_label, check_optional_positive, check_text


class SignalCommands:
    def __init__(
        self,
        store: Store,
        *,
        default_account: str = "default",
        default_signal_quantity: Decimal = Decimal(1),
    ) -> None:
        self.store = store
        #: The account and quantity of the order an accepted signal places.
        self.default_account = default_account
        self.default_signal_quantity = default_signal_quantity

    def generate_signal(self, signal: SignalInput) -> SignalResult:
        checked = signal.validated()
        created = Signal(
            strategy=checked.strategy,
            instrument=checked.instrument,
            side=Side(checked.side).value,
            strength=checked.strength,
            quantity=checked.quantity,
            reason=checked.reason,
            expires_at=checked.expires_at,
        )
        return SignalResult(created, self.store.commit(created))

    def accept_signal(self, signal_id: UUID, quantity: Decimal | None = None) -> SignalResult:
        """Accept a PENDING signal: places its MARKET order (clientOrderId signal-<id>)."""
        size = check_optional_positive(quantity, "quantity")

        def accept() -> SignalResult:
            signal = self.store.load(Signal, signal_id)
            chosen = size or signal.quantity or self.default_signal_quantity
            order = new_order(
                OrderInput(
                    client_order_id=signal_order_client_id(signal.id),
                    account=self.default_account,
                    instrument=signal.instrument,
                    side=signal.side,
                    quantity=chosen,
                    type=OrderType.MARKET,
                    signal_id=signal.id,
                )
            )
            signal.accept(order_id=order.id, quantity=chosen, now=self.store.clock())
            if self.store.find(Order, order.id) is not None:
                raise Conflict(f"an order for signal {signal.id} exists already")
            sequence, as_of = self.store.commit_served(signal, order)
            return SignalResult(signal, sequence, order, as_of=as_of)

        return retrying(accept)

    def reject_signal(self, signal_id: UUID, reason: str) -> SignalResult:
        text = check_label(reason, "reason", max_length=500)

        def reject() -> SignalResult:
            signal = self.store.load(Signal, signal_id)
            signal.reject(reason=text, now=self.store.clock())
            return SignalResult(signal, self.store.commit(signal))

        return retrying(reject)

    def cancel_signal(self, signal_id: UUID, reason: str | None = None) -> SignalResult:
        text = check_text(reason, "reason")

        def cancel() -> SignalResult:
            signal = self.store.load(Signal, signal_id)
            signal.cancel(reason=text, now=self.store.clock())
            return SignalResult(signal, self.store.commit(signal))

        return retrying(cancel)

    def expire_signal(self, signal_id: UUID) -> SignalResult:
        """Expire a PENDING signal past its expiresAt (the sweeper's command)."""

        def expire() -> SignalResult:
            signal = self.store.load(Signal, signal_id)
            signal.expire(self.store.clock())
            return SignalResult(signal, self.store.commit(signal))

        return retrying(expire)
