"""Moving a workspace's database to another server: every table of the incident store (incidents, the
partner directory, the audit trail, accounts and tokens, web sessions, jobs) copied row for row into an
empty database of the same schema — e.g. from the default SQLite file to PostgreSQL for production.

The target is migrated to the newest schema first and must hold no data; the copy runs in one
transaction on it, so a failure leaves it as empty as it was.  The source is only read.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Integer, Table, delete, func, insert, make_url, select, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from sitrep.incidents.db import Store, database_errors, make_engine, shown_url, upgrade_engine
from sitrep.incidents.errors import IncidentError, StoreError
from sitrep.incidents.schema import METADATA

# Rows a migration writes into a new database (the change counter's one row): replaced by the source's.
_SEEDED = frozenset({"change_counter"})
_BATCH = 5_000


class TargetNotEmpty(IncidentError):
    """The target database already holds data: copying into it would mix two workspaces."""


@dataclass(frozen=True)
class TableCopy:
    """One table copied: its name and the rows written."""

    table: str
    rows: int


def copy_database(source: Store, target_url: str) -> list[TableCopy]:
    """Copy every table of ``source`` (an open, migrated store) into the database at ``target_url``
    (migrated first; it must hold no data) and return the rows copied per table, in the order they
    were written (parents first).

    Raises :class:`TargetNotEmpty` when the target holds data, and
    :class:`~sitrep.incidents.errors.StoreError` when either database cannot be used.
    """
    try:
        same = make_url(source.url) == make_url(target_url)
        engine = make_engine(target_url)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"{target_url!r} is not a database URL Sitrep can use ({exc})") from None
    if same:
        engine.dispose()
        raise TargetNotEmpty(f"{shown_url(target_url)} is the workspace's own database")
    try:
        with database_errors(target_url):
            upgrade_engine(engine)
            tables = METADATA.sorted_tables
            copied = []
            with engine.begin() as into, database_errors(source.url), source.engine.connect() as out_of:
                _refuse_data(into, tables, target_url)
                for table in tables:
                    if table.name in _SEEDED:
                        into.execute(delete(table))
                    copied.append(TableCopy(table.name, _copy_rows(out_of, into, table)))
                if into.dialect.name == "postgresql":
                    _advance_sequences(into, tables)
            return copied
    finally:
        engine.dispose()


def _refuse_data(connection: Connection, tables: list[Table], url: str) -> None:
    for table in tables:
        if table.name in _SEEDED:
            continue
        rows = connection.scalar(select(func.count()).select_from(table)) or 0
        if rows:
            raise TargetNotEmpty(
                f"{shown_url(url)} already holds data ({rows} row{'s' if rows != 1 else ''} in {table.name}): "
                "copy into an empty database"
            )


def _copy_rows(source: Connection, target: Connection, table: Table) -> int:
    """Copy ``table`` in batches (a large audit trail never sits in memory whole), in key order."""
    query = select(table).order_by(*table.primary_key.columns)
    result = source.execution_options(stream_results=True, yield_per=_BATCH).execute(query)
    total = 0
    for batch in result.mappings().partitions(_BATCH):
        target.execute(insert(table), [dict(row) for row in batch])
        total += len(batch)
    return total


def _advance_sequences(connection: Connection, tables: list[Table]) -> None:
    """PostgreSQL numbers new rows from a sequence, which explicit ids do not move: set each one past
    the copied ids, so the next incident does not collide with a copied one."""
    for table in tables:
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        column = keys[0]
        found = text("SELECT pg_get_serial_sequence(:t, :c)")
        sequence = connection.scalar(found, {"t": table.name, "c": column.name})
        if sequence is not None:
            top = connection.scalar(select(func.max(column)))
            connection.execute(
                text("SELECT setval(CAST(:s AS regclass), :v, :called)"),
                {"s": sequence, "v": top or 1, "called": top is not None},
            )
