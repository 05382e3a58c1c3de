"""The desk at 100k incidents: the change counter of the case data (what caches compare), and the
indexes the incident list and the overdue requests are read by.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

- ``change_counter``: one row, bumped by every transaction that writes case data (``incidents.db``).
- ``ix_incidents_status_id`` (status, id) replaces ``ix_incidents_status``: a list filtered by status
  reads its newest page in index order instead of sorting every incident of the status.
- ``ix_incidents_owner_key`` (lower(owner), status, id): the list and the overdue requests compare
  owners case-insensitively, which the plain ``ix_incidents_owner`` cannot serve; with the status,
  "my new incidents" is one range of the index, newest last.

The overdue requests need no index of their own: they are found from the open incidents (by
``ix_incidents_status_id``) and their requests (``ix_coordination_requests_incident_id``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Upgrade schema."""
    counter = op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_counter")),
    )
    op.bulk_insert(counter, [{"id": 1, "count": 0}])
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_status"))
        batch_op.create_index("ix_incidents_status_id", ["status", "id"], unique=False)
    op.create_index("ix_incidents_owner_key", "incidents", [sa.text("lower(owner)"), "status", "id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_incidents_owner_key", table_name="incidents")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_status_id")
        batch_op.create_index(batch_op.f("ix_incidents_status"), ["status"], unique=False)
    op.drop_table("change_counter")
