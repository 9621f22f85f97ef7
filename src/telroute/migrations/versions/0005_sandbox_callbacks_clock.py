"""Sandbox test tools: what each callback try sent (its body) and whether it was the one dead-lettered,
found by account; the deployment's virtual clock (an offset added to system time, 0 = real time); opt-outs
(a subscriber who texted STOP to one of our numbers gets no more messages from it until START); the
outbound message an injected sandbox reply answers; indexes for retention (oldest messages and callback tries
first).

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
    op.create_index("messages_created", "messages", ["created_at_us"])
    op.create_table(
        "virtual_clock",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("offset_us", BIG, nullable=False),
        sa.Column("changed_at_us", BIG, nullable=False),
        sa.CheckConstraint("id = 1", name="virtual_clock_one_row"),
        sa.CheckConstraint("offset_us >= 0", name="virtual_clock_forward_only"),
    )
    op.create_table(
        "opt_outs",
        sa.Column("our_number", sa.Text, primary_key=True),
        sa.Column("subscriber", sa.Text, primary_key=True),
        sa.Column("created_at_us", BIG, nullable=False),
    )
    op.create_table(
        "message_replies",
        sa.Column("message_id", BIG, primary_key=True, autoincrement=False),
        sa.Column("reply_to_id", BIG, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("message_replies")
    op.drop_table("opt_outs")
    op.drop_table("virtual_clock")
    op.drop_index("messages_created", "messages")
    op.drop_index("webhook_attempts_by_account", "webhook_attempts")
    with op.batch_alter_table("webhook_attempts") as batch:
        batch.drop_column("dead_lettered")
        batch.drop_column("payload")
