"""Shadowserver's reports API: the reports each source was listed, by id, taken or failed (with the
attempts so far), so a report is downloaded once and a failing one a bounded number of times.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "shadowserver_reports",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("report_id", sa.String(length=200), nullable=False),
        sa.Column("file", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "report_id", name=op.f("pk_shadowserver_reports")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("shadowserver_reports")
