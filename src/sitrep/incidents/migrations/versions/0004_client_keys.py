"""Client keys of creating requests: an incident remembers the key (API Idempotency-Key, scoped by
the client) and the digest of the request that created it, so a retried request creates one incident.

Revision ID: 0004
Revises: 0003
Create Date: 2025-03-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_key", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("client_request", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_incidents_client_key"), ["client_key"])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_incidents_client_key"), type_="unique")
        batch_op.drop_column("client_request")
        batch_op.drop_column("client_key")
