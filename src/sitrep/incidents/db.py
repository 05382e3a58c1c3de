"""The incident store: one engine per process on the workspace database, migrated once when opened.

SQLite in the workspace by default, PostgreSQL when ``storage.database_url`` says so
(``postgresql+psycopg://user@host/db``).  Several processes (the CLI, the web desk, a cron job) write
at the same time, so:

- SQLite runs in WAL mode (readers never wait for the writer) and a **write** transaction starts with
  ``BEGIN IMMEDIATE``: it takes the write lock before its first read.  A deferred transaction that
  reads first and writes later is refused outright when another writer committed in between, which a
  busy timeout cannot cure.  A writer that finds the lock taken waits up to
  ``[incidents] busy_timeout_seconds``; PostgreSQL waits as long for a row lock (``lock_timeout``).
- :func:`open_store` keeps one :class:`Store` (one engine and its pool) per database for the life of
  the process and migrates the schema the first time; a web server holds it.
- Every transaction that writes the case data (``models.CASE_TABLES``) bumps the change counter in the
  same transaction (:meth:`Store.changes`), so a cache of what is computed from the data knows when
  it is stale without reading the data.  It is bumped at commit, so the counter's row lock (PostgreSQL)
  is held only while the transaction commits.

Alembic is configured in code, so no ``alembic.ini`` is needed at run time; the migration scripts
ship inside the package (``incidents/migrations``).
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, create_engine, event, insert, inspect, make_url, select, text, update
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction, sessionmaker

from sitrep.config import Workspace
from sitrep.incidents.errors import IncidentError, StoreBusy, StoreError
from sitrep.incidents.models import CASE_TABLES, ChangeCounter

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration.  Checking it needs one query instead of Alembic's script directory (a quarter
# of a second at every start); a test holds it to Alembic's head.
HEAD = "0010"
DEFAULT_BUSY_TIMEOUT = 30.0
# pg_advisory_xact_lock key that serialises migrations of one PostgreSQL database ("sitrep" in ASCII).
_MIGRATION_LOCK = 0x736974726570
_WRITE = "sitrep_write"
_CHANGED = "sitrep_case_changed"  # Session.info: this transaction wrote case data
_COUNTER = cast(Table, ChangeCounter.__table__)  # a declarative class's table (typed as any FromClause)


def _normalise_url(url: str) -> str:
    # ``postgresql://`` alone would make SQLAlchemy look for psycopg2; psycopg 3 is what we ship.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT (used for per-row import rollback) and
    # cannot say IMMEDIATE; SQLAlchemy emits BEGIN itself instead (the documented pysqlite recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys (and ON DELETE CASCADE) unless asked on every connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    # Persistent in the file; a no-op once set (an in-memory database answers "memory").
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    immediate = connection.get_execution_options().get(_WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@dataclass(frozen=True)
class Pool:
    """Connections a process keeps to a server database (``[storage] database_pool_size`` and
    ``database_max_overflow``); a web worker's requests share them."""

    size: int = 5
    max_overflow: int = 10


def make_engine(url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, pool: Pool | None = None) -> Engine:
    """An engine for ``url``: SQLite in WAL mode with foreign keys and a busy timeout, PostgreSQL with a
    lock timeout of the same length and a pool of ``pool`` connections."""
    url = _normalise_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        engine = create_engine(url, connect_args={"timeout": busy_timeout})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    connect_args = {"options": f"-c lock_timeout={int(busy_timeout * 1000)}"} if backend == "postgresql" else {}
    pool = pool or Pool()
    # pre_ping: a long-running holder (the web desk) survives a restarted database server.  A request
    # waits for a free connection as long as for a lock, then fails with the database busy.
    return create_engine(
        url,
        connect_args=connect_args,
        pool_pre_ping=True,
        pool_size=pool.size,
        max_overflow=pool.max_overflow,
        pool_timeout=busy_timeout,
    )


def alembic_config(connection: Any | None = None) -> Any:
    """An Alembic configuration pointing at the packaged migrations, optionally bound to a connection."""
    # Alembic is imported only when migrating: it costs every command a quarter of a second otherwise.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.scalar(text("SELECT version_num FROM alembic_version"))


def upgrade_engine(engine: Engine) -> None:
    """Migrate the database behind ``engine`` to the newest schema (a no-op when already there).

    Concurrent first starts are safe: the migration runs under the write lock (SQLite) or an advisory
    lock (PostgreSQL) and checks the revision again once it holds it.
    """
    with engine.connect() as connection:
        if _revision(connection) == HEAD:
            return
    from alembic import command

    with engine.execution_options(**{_WRITE: True}).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        if _revision(connection) != HEAD:
            command.upgrade(alembic_config(connection), "head")


def shown_url(url: str) -> str:
    """``url`` as messages print it: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turn a database that cannot be reached or stays locked into a :class:`StoreError` that says so,
    and a value the database cannot take (PostgreSQL refuses text with a NUL) into a refusal."""
    try:
        yield
    except DataError as exc:
        reason = str(exc.orig) if exc.orig is not None else str(exc)
        raise IncidentError(f"the incident database refused a value: {reason.strip()}") from exc
    except PoolTimeout as exc:
        reason = "every connection of this process's pool ([storage] database_pool_size) stayed in use"
        raise StoreBusy(f"the incident database {shown_url(url)} stayed busy: {reason}") from exc
    except OperationalError as exc:
        reason = str(exc.orig) if exc.orig is not None else str(exc)
        if "locked" in reason or "busy" in reason or "lock timeout" in reason:
            raise StoreBusy(f"the incident database {shown_url(url)} stayed busy: {reason}") from exc
        raise StoreError(f"cannot use the incident database {shown_url(url)}: {reason.strip()}") from exc


def _is_case_data(instance: object) -> bool:
    table = getattr(instance, "__tablename__", None)
    return table in CASE_TABLES


def _flushed(session: Session, _context: UOWTransaction) -> None:
    if any(_is_case_data(o) for group in (session.new, session.dirty, session.deleted) for o in group):
        session.info[_CHANGED] = True


def _statement(state: ORMExecuteState) -> None:
    # Bulk ORM statements (``session.execute(insert(Incident), rows)``, ``update(RefCounter)``) bypass
    # the flush.
    if (state.is_insert or state.is_update or state.is_delete) and any(
        isinstance(m.local_table, Table) and m.local_table.name in CASE_TABLES for m in state.all_mappers
    ):
        state.session.info[_CHANGED] = True


def _committing(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()  # the flush of the commit comes after this hook: what it writes must count too
    if session.info.pop(_CHANGED, False):
        connection = session.connection()
        if connection.execute(update(_COUNTER).values(count=_COUNTER.c.count + 1)).rowcount == 0:
            connection.execute(insert(_COUNTER).values(id=1, count=1))


def _ended(session: Session, transaction: Any) -> None:
    # A savepoint rolled back keeps the mark: counting a change that was undone is harmless.
    if transaction.parent is None:
        session.info.pop(_CHANGED, None)


class Store:
    """The incident database of a workspace: an engine, and sessions that read or write in one
    transaction (committed on success, rolled back on error)."""

    def __init__(self, url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, pool: Pool | None = None) -> None:
        self.url = _normalise_url(url)
        self.engine = make_engine(self.url, busy_timeout=busy_timeout, pool=pool)
        self._readers = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = sessionmaker(self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False)
        for sessions in (self._readers, self._writers):
            event.listen(sessions, "after_flush", _flushed)
            event.listen(sessions, "do_orm_execute", _statement)
            event.listen(sessions, "before_commit", _committing)
            event.listen(sessions, "after_transaction_end", _ended)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the newest revision."""
        with database_errors(self.url):
            upgrade_engine(self.engine)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading (it takes no write lock; closing it rolls back, nothing is committed)."""
        with database_errors(self.url), self._readers() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one write transaction: the write lock is taken at its start, the transaction
        commits when the block ends and rolls back when it raises."""
        with database_errors(self.url), self._writers() as session, session.begin():
            yield session

    def changes(self) -> int:
        """The change counter: it grows with every committed transaction that wrote case data."""
        with self.read() as session:
            return int(session.scalar(select(ChangeCounter.count)) or 0)

    def dispose(self) -> None:
        """Close the pool's connections."""
        self.engine.dispose()


_stores: dict[str, Store] = {}
_stores_lock = threading.Lock()


def open_store(workspace: Workspace) -> Store:
    """The process's store of the workspace database, opened and migrated on first use."""
    url = _normalise_url(workspace.database_url)
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            storage = workspace.settings.storage
            store = Store(
                url,
                busy_timeout=workspace.settings.incidents.busy_timeout_seconds,
                pool=Pool(storage.database_pool_size, storage.database_max_overflow),
            )
            try:
                store.migrate()
            except BaseException:
                store.dispose()
                raise
            _stores[url] = store
    return store


def close_stores() -> None:
    """Dispose of every store this process opened (at exit, and between tests)."""
    with _stores_lock:
        stores = list(_stores.values())
        _stores.clear()
    for store in stores:
        store.dispose()


atexit.register(close_stores)


def upgrade(workspace: Workspace) -> None:
    """Create or migrate the workspace database to the newest schema."""
    open_store(workspace)


def engine_for(workspace: Workspace) -> Engine:
    """The engine of the workspace database (the process's one, migrated)."""
    return open_store(workspace).engine


@contextmanager
def session_scope(workspace: Workspace) -> Iterator[Session]:
    """A write session in one transaction on the workspace database (see :meth:`Store.write`)."""
    with open_store(workspace).write() as session:
        yield session
