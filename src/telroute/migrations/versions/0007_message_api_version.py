"""The API version a message was sent through (`2.1` or `2.2`): its callbacks speak that version.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("api_version", sa.Text, nullable=False, server_default="2.1"))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("api_version")
