"""Sandbox faults on demand: per-account rules that force a delivery outcome for a destination (or
prefix), or make the account's API calls fail or slow down, each for a count, a share or until a moment.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sandbox_faults",
        sa.Column("id", BIG, sa.Identity(), primary_key=True),
        sa.Column("account_id", BIG, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("match_value", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("seconds", sa.Float, nullable=True),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("remaining", sa.Integer, nullable=True),
        sa.Column("share", sa.Float, nullable=True),
        sa.Column("expires_at_us", BIG, nullable=True),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.CheckConstraint("kind IN ('delivery', 'api')", name="sandbox_faults_kind"),
        sa.CheckConstraint("remaining IS NULL OR remaining >= 0", name="sandbox_faults_remaining"),
        sa.CheckConstraint("share IS NULL OR (share >= 0 AND share <= 1)", name="sandbox_faults_share"),
    )
    op.create_index("sandbox_faults_by_account", "sandbox_faults", ["account_id", "kind"])


def downgrade() -> None:
    op.drop_index("sandbox_faults_by_account", table_name="sandbox_faults")
    op.drop_table("sandbox_faults")
