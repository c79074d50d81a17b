"""Alembic environment of the registry: grappe metadata, the Settings URL or a given connection."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from grappe.calls import models as call_models  # noqa: F401  (registers its tables)
from grappe.cooperation import models as cooperation_models  # noqa: F401  (the same, cooperation)
from grappe.cooperation.actions import models as action_models  # noqa: F401  (the same, actions)
from grappe.evaluation import models as evaluation_models  # noqa: F401  (the same, evaluation)
from grappe.partners import models as partner_models  # noqa: F401  (the same, partners)
from grappe.partners.meetings import models as meeting_models  # noqa: F401  (the same, B2B meetings)
from grappe.registry import models  # noqa: F401  (registers every table on Base.metadata)
from grappe.registry.accounts import models as account_models  # noqa: F401  (the same, accounts)
from grappe.registry.jobs import models as job_models  # noqa: F401  (the same, detection jobs)
from grappe.storage.sql import Base, make_engine

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run on the connection handed over by grappe.registry.migrate, or open one from the URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None, pool=False)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
