"""E911 addresses and CNAM presets, and a number's links to them (columns on the owned number's row,
cleared when the number is released or bought again).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "e911_addresses",
        sa.Column("id", BIG, sa.Identity(), primary_key=True),
        sa.Column("account_id", BIG, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("first_name", sa.Text, nullable=False),
        sa.Column("last_name", sa.Text, nullable=False),
        sa.Column("street_name", sa.Text, nullable=False),
        sa.Column("street_number", sa.Text, nullable=False),
        sa.Column("address_type", sa.Text, nullable=True),
        sa.Column("address_type_number", sa.Text, nullable=True),
        sa.Column("city", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("country", sa.Text, nullable=False),
        sa.Column("zip", sa.Text, nullable=False),
        sa.Column("created_at_us", BIG, nullable=False),
    )
    op.create_index("e911_addresses_by_account", "e911_addresses", ["account_id", "state", "id"])
    op.create_table(
        "cnam_presets",
        sa.Column("id", BIG, sa.Identity(), primary_key=True),
        sa.Column("account_id", BIG, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("rejection_reason", sa.Text, nullable=True),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.Column("decided_at_us", BIG, nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="cnam_presets_status"),
        sa.UniqueConstraint("account_id", "value", name="cnam_presets_value_per_account"),
    )
    op.add_column("numbers", sa.Column("e911_address_id", BIG, nullable=True))
    op.add_column("numbers", sa.Column("cnam_preset_id", BIG, nullable=True))
    for column in ("e911_address_id", "cnam_preset_id"):
        condition = sa.text(f"{column} IS NOT NULL")
        op.create_index(f"numbers_by_{column}", "numbers", [column], sqlite_where=condition, postgresql_where=condition)


def downgrade() -> None:
    for column in ("e911_address_id", "cnam_preset_id"):
        op.drop_index(f"numbers_by_{column}", table_name="numbers")
        op.drop_column("numbers", column)
    op.drop_table("cnam_presets")
    op.drop_index("e911_addresses_by_account", table_name="e911_addresses")
    op.drop_table("e911_addresses")
