"""All configuration, read once: environment (`TRADESTATE_*`) over an optional
TOML/YAML file (`--config`) over defaults good for the demo."""

from __future__ import annotations

from contextvars import ContextVar
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

    stale_after_seconds: float = 5.0
    min_sequence_timeout_seconds: float = 5.0

    reconcile_interval_seconds: float = 30.0
    reconcile_policy: Literal["ALERT", "AUTO_CORRECT"] = "ALERT"

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
