"""The engine's knobs, copied once from Settings so this layer never imports it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class EngineConfig:
    instruments: tuple[str, ...] = ("AAPL", "MSFT", "BTC-USD")
    seed: int = 42
    tick_interval: float = 0.25
    feed: str = "sim"
    feed_speed: float = 1.0
    sim_volatility: Decimal = Decimal("0.002")
    sim_spread: Decimal = Decimal("0.0004")
    strategy: str = "ma_crossover"
    strategy_options: dict[str, str] = field(default_factory=dict)
    fast_window: int = 3
    slow_window: int = 8
    min_strength: Decimal = Decimal("0.05")
    max_position: Decimal = Decimal(100)
    max_open_orders: int = 10
    signal_cooldown: timedelta = timedelta(seconds=1)
    sizing: str = "fixed"
    order_quantity: Decimal = Decimal(10)
    signal_ttl: timedelta = timedelta(seconds=30)
    expiry_sweep_interval: float = 1.0
    stop_loss_fraction: Decimal | None = Decimal("0.004")
    take_profit_fraction: Decimal | None = Decimal("0.008")
    slippage_bps: Decimal = Decimal(1)
    commission_per_fill: Decimal = Decimal("0.5")
    commission_bps: Decimal = Decimal(0)
    reconcile_interval: float = 30.0
    reconcile_policy: str = "ALERT"
    account: str = "default"

    @classmethod
    def from_settings(cls, settings: Any) -> EngineConfig:
        """Read the `engine_*`, `paper_*` and `reconcile_*` fields of a Settings object."""
        return cls(
            instruments=tuple(settings.engine_instruments),
            seed=settings.engine_seed,
            tick_interval=settings.engine_tick_interval_seconds,
            feed=settings.engine_feed,
            feed_speed=settings.engine_feed_speed,
            sim_volatility=settings.engine_sim_volatility,
            sim_spread=settings.engine_sim_spread,
            strategy=settings.engine_strategy,
            strategy_options=dict(settings.engine_strategy_options),
            fast_window=settings.engine_fast_window,
            slow_window=settings.engine_slow_window,
            min_strength=settings.engine_min_strength,
            max_position=settings.engine_max_position,
            max_open_orders=settings.engine_max_open_orders,
            signal_cooldown=timedelta(seconds=settings.engine_signal_cooldown_seconds),
            sizing=settings.engine_sizing,
            order_quantity=settings.engine_order_quantity,
            signal_ttl=timedelta(seconds=settings.engine_signal_ttl_seconds),
            expiry_sweep_interval=settings.engine_expiry_sweep_interval_seconds,
            stop_loss_fraction=settings.engine_stop_loss_fraction,
            take_profit_fraction=settings.engine_take_profit_fraction,
            slippage_bps=settings.paper_slippage_bps,
            commission_per_fill=settings.paper_commission_per_fill,
            commission_bps=settings.paper_commission_bps,
            reconcile_interval=settings.reconcile_interval_seconds,
            reconcile_policy=settings.reconcile_policy,
            account=settings.default_account,
        )
