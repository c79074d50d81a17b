"""Run the registry's Alembic migrations from Python (CLI, first use of a fresh database, tests)."""

from __future__ import annotations

import threading

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

SCRIPT_LOCATION = "grappe.registry:migrations"

_ready: set[str] = set()
_lock = threading.Lock()


def alembic_config() -> Config:
    """An Alembic configuration pointing at the revisions shipped inside the package."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of grappe."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # the package always ships at least one revision
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate the database up to ``revision`` in one transaction; return the new revision."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    _ready.discard(str(engine.url))
    return current_revision(engine)


def downgrade(engine: Engine, revision: str = "base") -> str | None:
    """Migrate the database down to ``revision`` (``base`` drops every registry table)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    _ready.discard(str(engine.url))
    return current_revision(engine)


def ensure_schema(engine: Engine) -> None:
    """Upgrade to head once per process when the database is behind (a fresh one included)."""
    key = str(engine.url)
    if key in _ready:
        return
    with _lock:
        if key in _ready:
            return
        if current_revision(engine) != head_revision():
            upgrade(engine)
        _ready.add(key)
