"""All configuration, read once: environment (`TRADESTATE_*`) over an optional
TOML/YAML file (`--config`) over defaults good for the demo."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
    YamlConfigSettingsSource,
)

from infrastructure.instruments import InstrumentSetting

_config_file: ContextVar[Path | None] = ContextVar("tradestate_config_file", default=None)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRADESTATE_", extra="ignore")

    database_url: str = Field(
        "sqlite:///./tradestate.db", description="sqlite:///PATH or postgresql://..."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    reader_token: SecretStr | None = None
    trader_token: SecretStr | None = None
    allowed_origins: list[str] = Field(default_factory=list)
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: str = "INFO"

    default_account: str = "default"
    default_signal_quantity: Decimal = Decimal(1)
    aggregate_cache_size: int = 10_000

    # Instrument specs (SPEC section 13), keyed by instrument or glob pattern, e.g.
    # {"BTC-*": {"currency": "USD", "price_increment": "0.01", "size_increment": "0.0001"}}.
    instruments: dict[str, InstrumentSetting] = Field(default_factory=dict)
    # Places of currencies ISO 4217 does not know (crypto), or overriding it.
    currency_places: dict[str, int] = Field(
        default_factory=lambda: {"BTC": 8, "ETH": 8, "USDT": 6, "USDC": 6}
    )
    # When "today" starts for todayPnl, as a UTC time of day.
    session_start_utc: time = time(0, 0)

    stale_after_seconds: float = 5.0
    min_sequence_timeout_seconds: float = 5.0
    # Requests never wait on the database for long, nor crowd out other requests
    # (ADR 012): a read-model statement gives up after query_timeout_seconds (locks
    # included, PostgreSQL); each kind of read and the commands get their own worker
    # threads (commands fewer than the event store's pooled connections, so writers
    # waiting on a lock leave connections for reading the log); a WebSocket whose
    # client stops reading is closed after ws_send_timeout_seconds.
    query_timeout_seconds: float = 5.0
    threads_per_read_kind: int = 8
    command_threads: int = 8
    ws_send_timeout_seconds: float = 10.0

    # The transparency log (SPEC 8): a head every N events or T seconds, whichever
    # comes first; signed when a private key file is named (never in the database).
    transparency_signing_key_file: Path | None = None
    transparency_public_key_file: Path | None = Field(
        None, description="for audit commands; default: the signing key's public half"
    )
    transparency_head_every_events: int = Field(1000, ge=1)
    transparency_head_every_seconds: float = Field(10.0, gt=0)

    reconcile_interval_seconds: float = 30.0
    reconcile_policy: Literal["ALERT", "AUTO_CORRECT"] = "ALERT"
    # How long `reconcile` waits for the process holding the broker to record the run.
    reconcile_request_timeout_seconds: float = 10.0

    # The engine (application/engine): feed, strategy, risk, paper broker, monitors.
    engine_instruments: list[str] = Field(default_factory=lambda: ["AAPL", "MSFT", "BTC-USD"])
    engine_seed: int = 42
    engine_tick_interval_seconds: float = 0.25
    engine_feed: str = Field("sim", description="sim, csv:PATH, csv:sample or none")
    engine_feed_speed: float = Field(1.0, description="CSV replay speed; 0 = as fast as possible")
    engine_sim_volatility: Decimal = Decimal("0.002")
    engine_sim_spread: Decimal = Decimal("0.0004")
    engine_strategy: str = Field(
        "ma_crossover", description="ma_crossover, module:Class, an entry point name, or none"
    )
    engine_strategy_options: dict[str, str] = Field(default_factory=dict)
    engine_fast_window: int = 3
    engine_slow_window: int = 8
    engine_min_strength: Decimal = Decimal("0.05")
    engine_max_position: Decimal = Decimal(100)
    engine_max_open_orders: int = 10
    engine_signal_cooldown_seconds: float = 1.0
    engine_sizing: Literal["fixed", "strength"] = "fixed"
    engine_order_quantity: Decimal = Decimal(10)
    engine_signal_ttl_seconds: float = 30.0
    engine_expiry_sweep_interval_seconds: float = 1.0
    engine_stop_loss_fraction: Decimal | None = Decimal("0.004")
    engine_take_profit_fraction: Decimal | None = Decimal("0.008")
    paper_slippage_bps: Decimal = Decimal(1)
    paper_commission_per_fill: Decimal = Decimal("0.5")
    paper_commission_bps: Decimal = Decimal(0)

    # GraphQL API limits and subscriptions (interfaces/api).
    max_request_bytes: int = 4 * 1024 * 1024
    graphql_max_depth: int = 10
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 20_000
    subscription_buffer_size: int = 1_000
    ws_ping_interval_seconds: float = 20.0
    ws_ping_timeout_seconds: float = 20.0
    shutdown_timeout_seconds: float = 10.0
    # Budgets against denial of service (ADR 012): fields selected once fragments
    # are expanded; bytes of stored events one response may carry; bytes waiting
    # for one subscriber; bytes of the log one catch-up page reads.
    graphql_max_fields: int = 2_000
    max_response_bytes: int = 4 * 1024 * 1024
    subscription_buffer_bytes: int = 2 * 1024 * 1024
    catch_up_page_bytes: int = 1024 * 1024

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_file.get()
        if path is not None:
            if path.suffix.lower() == ".toml":
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
            else:
                sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
        return tuple(sources)


def load_settings(config_file: Path | None = None, **overrides: object) -> Settings:
    """Settings from (in order of precedence) overrides, environment, file, defaults."""
    if config_file is not None and not config_file.is_file():
        raise FileNotFoundError(f"config file {config_file} does not exist")
    token = _config_file.set(config_file)
    try:
        given = {key: value for key, value in overrides.items() if value is not None}
        return Settings(**given)  # type: ignore[arg-type]
    finally:
        _config_file.reset(token)
