"""The console reads one message's callback attempts and dead letters: index them by message.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("webhook_attempts_message", "webhook_attempts", ["message_public_id"])
    op.create_index("webhook_dead_letters_message", "webhook_dead_letters", ["message_public_id"])


def downgrade() -> None:
    op.drop_index("webhook_dead_letters_message", table_name="webhook_dead_letters")
    op.drop_index("webhook_attempts_message", table_name="webhook_attempts")
