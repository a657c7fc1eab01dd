"""Alembic environment: the database URL comes from the settings (CAMINOS_DATABASE_URL)
unless a caller passes a connection in ``config.attributes["connection"]``."""

from typing import Any, Literal

from alembic import context
from sqlalchemy import Connection, create_engine, pool

import app.models  # noqa: F401  (registers every model on Base.metadata)
from app.core.base import Base, UTCDateTime
from app.core.config import get_settings

config = context.config
target_metadata = Base.metadata


def _render_item(type_: str, obj: object, autogen_context: Any) -> str | Literal[False]:
    # migrations stay independent of app code: the UTC decorator is a plain timezone-aware DateTime there
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    # procrastinate's tables (revision 0009, PostgreSQL only) are the queue's, not our models': not compared
    return not (type_ == "table" and name is not None and name.startswith("procrastinate_"))


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=get_settings().database_url, target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    # A plain engine: no PRAGMA foreign_keys=ON here, or a batch rebuild of a SQLite table would cascade-delete
    # its children when the old table is dropped.
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _configure(conn)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
