"""Alembic environment of the run store.

The store runs the migrations itself (``planner.store.RunStore`` passes its open connection in
``config.attributes["connection"]``), so finance never needs an ``alembic.ini``. Without a connection (the ``alembic``
command line with ``-x url=...`` or ``sqlalchemy.url``), one is made from the URL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

#: Any constant: PostgreSQL's transaction-scoped advisory lock so two processes never migrate one store at once.
_MIGRATION_LOCK_KEY = 7_314_265


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=None, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})")
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate on the connection the store lent, or on one made from the configured URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("the run store's migrations run online only (on a connection)")
run_migrations_online()
