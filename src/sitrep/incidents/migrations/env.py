"""Alembic environment: runs migrations on the connection :mod:`sitrep.incidents.db` hands over.

A new revision is written during development against a scratch database, e.g.::

    from alembic import command
    from sitrep.incidents.db import alembic_config, make_engine, upgrade_engine
    engine = make_engine("sqlite:////tmp/scratch.db"); upgrade_engine(engine)
    with engine.begin() as conn:
        command.revision(alembic_config(conn), message="…", autogenerate=True)

``render_as_batch`` lets ALTER-style migrations work on SQLite too.
"""

from __future__ import annotations

from alembic import context

from sitrep.incidents.schema import METADATA

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through sitrep.incidents.db.upgrade(), which passes a connection")

context.configure(connection=connection, target_metadata=METADATA, render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
