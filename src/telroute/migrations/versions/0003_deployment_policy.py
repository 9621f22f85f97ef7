"""The deployment's profile and outbound address policy, stored once for every process to obey,
and the log of changes to them.

`deployment` has at most one row (id 1). It is written by `telroute init` or by the first `serve`
(or `worker --profile`); a process may run stricter than it says, never looser.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "deployment",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("private_targets", sa.Boolean, nullable=False),
        sa.Column("allowed_networks", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.CheckConstraint("id = 1", name="deployment_single_row"),
        sa.CheckConstraint("profile IN ('sandbox', 'production')", name="deployment_profile"),
    )
    op.create_table(
        "deployment_changes",
        sa.Column("id", BIG, sa.Identity(), primary_key=True),
        sa.Column("at_us", BIG, nullable=False),
        sa.Column("change", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("deployment_changes")
    op.drop_table("deployment")
