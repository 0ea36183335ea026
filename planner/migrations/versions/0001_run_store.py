"""The run store: runs, their allocation rows and approvals.

Revision ID: 0001_run_store
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_run_store"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the three tables (JSON kept as sorted-key text so SQLite and PostgreSQL store the same bytes)."""
    op.create_table(
        "runs",
        sa.Column("run_id", sa.String(128), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("force_reasons", sa.Text(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("config_toml", sa.Text(), nullable=False),
        sa.Column("input_hashes", sa.Text(), nullable=False),
        sa.Column("posterior_hash", sa.String(128), nullable=True),
        sa.Column("posterior_path", sa.Text(), nullable=True),
        sa.Column("package_version", sa.String(64), nullable=False),
        sa.Column("git_commit", sa.String(64), nullable=True),
        sa.Column("versions", sa.Text(), nullable=False),
        sa.Column("seeds", sa.Text(), nullable=False),
        sa.Column("solver", sa.Text(), nullable=True),
        sa.Column("gate", sa.Text(), nullable=True),
        sa.Column("headline", sa.Text(), nullable=True),
        sa.Column("budget", sa.Float(), nullable=True),
        sa.Column("revenue_period", sa.Float(), nullable=True),
        sa.Column("allocation_columns", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("run_dir", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('running', 'complete', 'failed', 'interrupted')", name="ck_runs_status"),
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at"])
    op.create_table(
        "allocation_rows",
        sa.Column("run_id", sa.String(128), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("row_order", sa.Integer(), primary_key=True),
        sa.Column("region", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(128), nullable=False),
        sa.Column("objective", sa.String(64), nullable=True),
        sa.Column("spend_period_current", sa.Float(), nullable=True),
        sa.Column("spend_period", sa.Float(), nullable=True),
        sa.Column("spend_period_change", sa.Float(), nullable=True),
        sa.Column("revenue_period", sa.Float(), nullable=True),
        sa.Column("revenue_period_low", sa.Float(), nullable=True),
        sa.Column("revenue_period_high", sa.Float(), nullable=True),
        sa.Column("roi", sa.Float(), nullable=True),
        sa.Column("mroi", sa.Float(), nullable=True),
        sa.Column("mroi_below_hurdle", sa.Boolean(), nullable=True),
        sa.Column("flag", sa.Boolean(), nullable=True),
        sa.Column("flag_reason", sa.Text(), nullable=True),
    )
    # the primary key (run_id, row_order) already indexes run_id first; this one is for SQL users' cell queries
    op.create_index("ix_allocation_rows_run_id_region_channel", "allocation_rows", ["run_id", "region", "channel"])
    op.create_table(
        "approvals",
        # one approval per run, enforced by the database so two approvers racing cannot both win
        sa.Column("run_id", sa.String(128), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("approved_by", sa.String(256), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    """Drop the tables (for development only: the store itself never deletes runs)."""
    op.drop_table("approvals")
    op.drop_index("ix_allocation_rows_run_id_region_channel", table_name="allocation_rows")
    op.drop_table("allocation_rows")
    op.drop_index("ix_runs_started_at", table_name="runs")
    op.drop_table("runs")
