"""Saved scenarios of the app's budget planner (a policy and its plan), and the run each was promoted to.

Revision ID: 0003_scenarios
Revises: 0002_checks
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_scenarios"
down_revision: str | None = "0002_checks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """One row per saved scenario; names are unique so a marketer can refer to one by name."""
    op.create_table(
        "scenarios",
        sa.Column("scenario_id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False, unique=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("config_toml", sa.Text(), nullable=False),
        sa.Column("policy_toml", sa.Text(), nullable=False),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("allocation", sa.Text(), nullable=False),
        sa.Column("budget", sa.Float(), nullable=True),
        sa.Column("revenue_period", sa.Float(), nullable=True),
        sa.Column("promoted_run_id", sa.String(128), sa.ForeignKey("runs.run_id"), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("scenarios")
