"""Sandbox test tools: what each callback try sent (its body) and whether it was the one dead-lettered,
found by account; the deployment's virtual clock (an offset added to system time, 0 = real time).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("webhook_attempts", sa.Column("payload", sa.Text, nullable=True))
    op.add_column("webhook_attempts", sa.Column("dead_lettered", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("webhook_attempts_by_account", "webhook_attempts", ["account_id", "id"])
    op.create_table(
        "virtual_clock",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("offset_us", BIG, nullable=False),
        sa.Column("changed_at_us", BIG, nullable=False),
        sa.CheckConstraint("id = 1", name="virtual_clock_one_row"),
        sa.CheckConstraint("offset_us >= 0", name="virtual_clock_forward_only"),
    )


def downgrade() -> None:
    op.drop_table("virtual_clock")
    op.drop_index("webhook_attempts_by_account", "webhook_attempts")
    with op.batch_alter_table("webhook_attempts") as batch:
        batch.drop_column("dead_lettered")
        batch.drop_column("payload")
