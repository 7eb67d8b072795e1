"""Alembic environment: runs migrations against the URL given by mailbot.db.alembic_config."""
from alembic import context
from sqlalchemy import engine_from_config, func, pool, select

from mailbot.coordination import lock_key
from mailbot.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                     poolclass=pool.NullPool)
    with connectable.connect() as connection:
        # render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds tables where needed.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Every `mailbot run` migrates at start: daemons started together on a new version take turns
                # (the lock ends with the transaction); the later ones find the schema already at head.
                connection.execute(select(func.pg_advisory_xact_lock(lock_key("alembic-migrations"))))
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
