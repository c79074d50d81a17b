"""The one Settings object of grappe, read from the environment (prefix GRAPPE_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Default of ``max_body``: a members file of tens of thousands of rows fits, an abuse does not.
MAX_BODY_DEFAULT = 5 * 1024 * 1024

#: The analytics engines (``GRAPPE_ENGINE``, ``--engine``): DuckDB embedded, Spark local.
EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[str, ...] = get_args(EngineName)


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("grappe", appauthor=False))


class Settings(BaseSettings):
    """Settings shared by the library, the CLI, the API and the tests.

    Every field can be set from the environment with the ``GRAPPE_`` prefix,
    for example ``GRAPPE_HOME=/srv/grappe``.
    """

    model_config = SettingsConfigDict(env_prefix="GRAPPE_", extra="ignore")

    home: Path = Field(
        default_factory=_default_home,
        description="Data directory: fabric store, registry database, imported reference data.",
    )
    store: Path | None = Field(default=None, description="Fabric store directory (default: HOME/store).")
    database_url: str | None = Field(
        default=None,
        description="Registry database URL (default: SQLite file HOME/registry.sqlite3).",
    )
    engine: EngineName = Field(default="duckdb", description="Analytics engine for queries on the fabric.")
    spark_master: str = Field(default="local[2]", description="Spark master URL.")
    memory_limit: str = Field(default="2GB", description="DuckDB memory limit for heavy queries.")
    threads: int | None = Field(default=None, description="DuckDB threads (default: all cores).")
    fabric_lock_timeout: float = Field(
        default=600.0,
        gt=0,
        description="Seconds a fabric command waits for the store (another import) before giving up.",
    )
    api_cache: int = Field(
        default=2048,
        ge=0,
        description="Public directory pages the API keeps per process (0: no cache).",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key signing the web application's CSRF tokens "
        "(default: one generated once in HOME/secret_key).",
    )
    max_body: int = Field(
        default=MAX_BODY_DEFAULT,
        ge=0,
        description="Largest API request body, in bytes (larger ones are answered 413).",
    )

    smtp_host: str | None = Field(
        default=None,
        description="SMTP server sending grappe's mail (default: none, mail is written to "
        "HOME/outbox as .eml files).",
    )
    smtp_port: int = Field(default=25, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_user: str | None = Field(default=None, description="SMTP login, when the server asks one.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS before sending."
    )
    mail_from: str = Field(
        default="grappe <ne-pas-repondre@grappe.localhost>",
        description="Sender address of grappe's mail.",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public address of the web application, for the links mail carries.",
    )

    @property
    def outbox_dir(self) -> Path:
        """Where mail goes when no SMTP server is configured."""
        return self.home / "outbox"

    @property
    def store_dir(self) -> Path:
        """The fabric store directory."""
        return self.store if self.store is not None else self.home / "store"

    @property
    def registry_url(self) -> str:
        """The SQLAlchemy URL of the registry database."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'registry.sqlite3'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache with ``get_settings.cache_clear()``)."""
    return Settings()
