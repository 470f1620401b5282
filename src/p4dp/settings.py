"""One settings object for the whole platform.

Values come, in increasing priority, from the defaults below, an optional TOML file
(`P4DP_CONFIG`, default `p4dp.toml` in the working directory) and environment variables `P4DP_*`.
Nothing else in the code reads the environment: settings are passed in.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="P4DP_", extra="forbid")

    home: Path = Field(Path("var"), description="Data folder: warehouse, keys, operational store.")
    warehouse_path: Path | None = Field(None, description="DuckDB warehouse file "
                                        "(default HOME/warehouse.duckdb).")
    keys_dir: Path | None = Field(None, description="Practice-side keys (default HOME/keys).")
    database_url: str | None = Field(None, description="Operational store URL "
                                     "(default SQLite in HOME/p4dp.sqlite).")
    config: Path | None = Field(None, description="TOML settings file.")

    # Disclosure control: cells from 1 to this value are suppressed for anyone but the patient's
    # own GP. The French hospital data-access centre masks cells under 11 (DOMAIN.md §4).
    small_cell_max: int = Field(10, ge=0)
    # Coder abstains below this confidence (issue 4: "_" rather than guess).
    coding_min_confidence: float = Field(0.5, ge=0.0, le=1.0)
    # Web application. The session-signing key is generated into HOME/secret_key (mode 0600) on
    # first use unless given; cookies are marked Secure when served over HTTPS (production).
    secret_key: str | None = Field(None, description="Session-signing key (default: generated "
                                   "file HOME/secret_key).")
    web_host: str = Field("127.0.0.1", description="Address the web app listens on.")
    web_port: int = Field(8000, ge=1, le=65535)
    cookie_secure: bool = Field(False, description="Mark cookies Secure (set true behind HTTPS).")
    duckdb_threads: int = Field(2, ge=1)
    duckdb_memory_limit: str = Field("4GB")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    @property
    def warehouse(self) -> Path:
        return self.warehouse_path or self.home / "warehouse.duckdb"

    @property
    def keys(self) -> Path:
        return self.keys_dir or self.home / "keys"

    def session_secret(self) -> str:
        """The session-signing key: the setting, or a random key kept in HOME/secret_key."""
        if self.secret_key:
            return self.secret_key
        path = self.home / "secret_key"
        if not path.is_file():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process created it first: use theirs
                pass
            else:
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    @property
    def operational_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'p4dp.sqlite').resolve()}"


class _TomlSource(PydanticBaseSettingsSource):
    """Reads `[p4dp]` (or top-level keys) from the TOML file named by P4DP_CONFIG."""

    def __call__(self) -> dict:
        path = Path(os.environ.get("P4DP_CONFIG", "p4dp.toml"))
        if not path.is_file():
            return {}
        with path.open("rb") as f:
            data = tomllib.load(f)
        return data.get("p4dp", data)

    def get_field_value(self, field, field_name):  # pragma: no cover - required by the ABC
        return None, field_name, False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
