"""The API version (`2.1` or `2.2`) each account-level inbound callback URL was set through: its
inbound callbacks speak that version.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = ("sms_callback_version", "mms_callback_version")


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        for column in COLUMNS:
            batch.add_column(sa.Column(column, sa.Text, nullable=False, server_default="2.1"))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        for column in COLUMNS:
            batch.drop_column(column)
