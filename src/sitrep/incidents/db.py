"""Open the incident database named by the workspace and migrate it with Alembic.

SQLite in the workspace by default, PostgreSQL when ``storage.database_url`` says so
(``postgresql+psycopg://user@host/db``).  Alembic is configured in code, so no ``alembic.ini`` is
needed at run time; the migration scripts ship inside the package (``incidents/migrations``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from sitrep.config import Workspace

MIGRATIONS = Path(__file__).with_name("migrations")


def _normalise_url(url: str) -> str:
    # ``postgresql://`` alone would make SQLAlchemy look for psycopg2; psycopg 3 is what we ship.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores foreign keys (and ON DELETE CASCADE) unless asked on every connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # pysqlite's own transaction handling breaks SAVEPOINT (used for per-row import rollback);
    # let SQLAlchemy emit BEGIN itself instead (the documented pysqlite recipe).
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (SQLite gets foreign keys switched on)."""
    engine = create_engine(_normalise_url(url), future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def engine_for(workspace: Workspace) -> Engine:
    """The engine of the workspace database (``Workspace.database_url``)."""
    return make_engine(workspace.database_url)


def alembic_config(connection: Any | None = None) -> Any:
    """An Alembic configuration pointing at the packaged migrations, optionally bound to a connection."""
    # Alembic is imported only when migrating: it costs every command a quarter of a second otherwise.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_engine(engine: Engine) -> None:
    """Migrate the database behind ``engine`` to the newest schema (a no-op when already there)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with engine.begin() as connection:
        if MigrationContext.configure(connection).get_current_revision() == head:
            return
        command.upgrade(alembic_config(connection), "head")


def upgrade(workspace: Workspace) -> None:
    """Create or migrate the workspace database to the newest schema."""
    engine = engine_for(workspace)
    try:
        upgrade_engine(engine)
    finally:
        engine.dispose()


@contextmanager
def session_factory(workspace: Workspace) -> Iterator[sessionmaker[Session]]:
    """A session factory on the (migrated) workspace database, for work in several transactions."""
    engine = engine_for(workspace)
    try:
        upgrade_engine(engine)
        yield sessionmaker(engine, expire_on_commit=False)
    finally:
        engine.dispose()


@contextmanager
def session_scope(workspace: Workspace) -> Iterator[Session]:
    """A session in one transaction on the workspace database: commit on success, roll back on error."""
    with session_factory(workspace) as factory, factory() as session, session.begin():
        yield session
