"""Checks of a run's plan against a realized period (``growth-allocator check``).

Revision ID: 0002_checks
Revises: 0001_run_store
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_checks"
down_revision: str | None = "0001_run_store"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """One row per check: when, on which data, its verdict and recommendation, and its tables as JSON text."""
    op.create_table(
        "checks",
        sa.Column("check_id", sa.String(128), primary_key=True),
        sa.Column("run_id", sa.String(128), sa.ForeignKey("runs.run_id"), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_week", sa.String(10), nullable=False),
        sa.Column("last_week", sa.String(10), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("input_hashes", sa.Text(), nullable=False),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("recommendation", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("check_dir", sa.Text(), nullable=True),
    )
    op.create_index("ix_checks_run_id", "checks", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_checks_run_id", table_name="checks")
    op.drop_table("checks")
