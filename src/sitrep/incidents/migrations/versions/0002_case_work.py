"""Case work: incident owner, notes, request due dates and reminders, partner deactivation, the entry
time of audit entries, and the ref counters.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-03

Existing audit entries get ``entered_at = at`` (they were entered when they took effect, as far as
anyone can tell); existing partners are active.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_incidents_owner"), ["owner"], unique=False)

    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))

    with op.batch_alter_table("coordination_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_coordination_requests_due_at"), ["due_at"], unique=False)

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entered_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE audit_log SET entered_at = at")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("entered_at", existing_type=sa.DateTime(), nullable=False)

    op.create_table(
        "incident_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_notes_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_notes")),
    )
    with op.batch_alter_table("incident_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_notes_incident_id"), ["incident_id"], unique=False)

    op.create_table(
        "ref_counters",
        sa.Column("prefix", sa.String(length=100), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_ref_counters")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("ref_counters")
    with op.batch_alter_table("incident_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_notes_incident_id"))
    op.drop_table("incident_notes")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("entered_at")
    with op.batch_alter_table("coordination_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coordination_requests_due_at"))
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("due_at")
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_column("active")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_owner"))
        batch_op.drop_column("owner")
