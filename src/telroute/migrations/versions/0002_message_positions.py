"""Number each account's messages 1, 2, 3... in time order, so an MDR page at any offset is found
by position (one index probe) instead of by walking `offset` index entries.

`message_positions` holds each account's last position handed out and its newest message time; both
move in the transaction that inserts the message, so positions stay gapless and a message's time
never goes backwards against its position. Also drops `auth_failures`, which
nothing used (the failed-login throttle lives in each API process).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_NUMBER_MESSAGES = """
UPDATE messages SET seq = ranked.position
FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY created_at_us, id) AS position
      FROM messages) AS ranked
WHERE ranked.id = messages.id"""
_COUNT_PER_ACCOUNT = """
INSERT INTO message_positions (account_id, last_seq, last_at_us)
SELECT account_id, MAX(seq), MAX(created_at_us) FROM messages GROUP BY account_id"""


def upgrade() -> None:
    op.create_table(
        "message_positions",
        sa.Column("account_id", BIG, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("last_seq", BIG, nullable=False),
        sa.Column("last_at_us", BIG, nullable=False),
    )
    op.add_column("messages", sa.Column("seq", BIG, nullable=True))
    op.execute(_NUMBER_MESSAGES)
    op.execute(_COUNT_PER_ACCOUNT)
    with op.batch_alter_table("messages") as batch:
        batch.alter_column("seq", existing_type=BIG, nullable=False)
        batch.drop_index("messages_account_time")
        batch.create_index("messages_account_time", ["account_id", "created_at_us", "seq"])
        batch.create_index("messages_account_seq", ["account_id", "seq"], unique=True)
    op.drop_table("auth_failures")


def downgrade() -> None:
    op.create_table(
        "auth_failures",
        sa.Column("client", sa.Text, nullable=False, primary_key=True),
        sa.Column("tat_us", BIG, nullable=False),
    )
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("messages_account_seq")
        batch.drop_index("messages_account_time")
        batch.create_index("messages_account_time", ["account_id", "created_at_us", "id"])
        batch.drop_column("seq")
    op.drop_table("message_positions")
