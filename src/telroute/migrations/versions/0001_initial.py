"""Initial schema: accounts, inventory and numbers, routes, messages, jobs, webhooks, carriers.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite rowids are 64-bit INTEGER


def _pk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", BIG, sa.Identity(), primary_key=True)


def _callback_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    names = ("sms_callback", "mms_callback", "sms_dlr_callback", "mms_dlr_callback")
    return [sa.Column(name, sa.Text, nullable=True) for name in names]


def upgrade() -> None:
    op.create_table(
        "accounts",
        _pk(),
        sa.Column("access_key", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("webhook_secret", sa.Text, nullable=True),
        sa.Column("sms_per_second", sa.Integer, nullable=False, server_default="5"),
        sa.Column("mms_per_second", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at_us", BIG, nullable=False),
        *_callback_columns(),
    )
    op.create_table(
        "routes",
        _pk(),
        sa.Column("account_id", BIG, sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("route_type", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=True),
        sa.Column("alias", sa.Text, nullable=True),
        sa.Column("edge_strategy", sa.Text, nullable=True),
        sa.Column("created_at_us", BIG, nullable=False),
    )
    op.create_index("routes_account", "routes", ["account_id", "id"])
    op.execute(
        "INSERT INTO routes (id, account_id, route_type, value, alias, edge_strategy, created_at_us) "
        "VALUES (0, NULL, 'sip-reg', NULL, 'sip-reg', NULL, 0)"
    )
    op.create_table(
        "numbers",
        _pk(),
        sa.Column("value", sa.Text, nullable=False, unique=True),
        sa.Column("npa", sa.Text, nullable=False),
        sa.Column("nxx", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("rate_center", sa.Text, nullable=False),
        sa.Column("number_type", sa.Text, nullable=False),
        sa.Column("setup_cost_nd", BIG, nullable=False),
        sa.Column("monthly_cost_nd", BIG, nullable=False),
        sa.Column("account_id", BIG, sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("alias", sa.Text, nullable=True),
        sa.Column("cnam_lookups_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("messaging_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("primary_route_id", BIG, nullable=False, server_default="0"),
        sa.Column("failover_route_id", BIG, nullable=True),
        sa.Column("purchased_at_us", BIG, nullable=True),
        *_callback_columns(),
    )
    # The inventory search lists available numbers in `value` order: each equality filter leads an index
    # that then yields `value` in order, so that LIMIT stops early instead of scanning a million rows.
    available = sa.text("account_id IS NULL")
    for name, columns in (
        ("numbers_available_state", ["state", "value"]),
        ("numbers_available_rate_center", ["state", "rate_center", "value"]),
        ("numbers_available_type", ["number_type", "value"]),
    ):
        op.create_index(name, "numbers", columns, sqlite_where=available, postgresql_where=available)
    # (account_id, value) serves an account's own numbers and, with account_id IS NULL, the unfiltered search.
    op.create_index("numbers_account_value", "numbers", ["account_id", "value"])
    op.create_table(
        "inventory_blocks",
        sa.Column("npa", sa.Text, nullable=False),
        sa.Column("nxx", sa.Text, nullable=False),
        sa.Column("setup_cost_nd", BIG, nullable=False),
        sa.Column("available", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("npa", "nxx", "setup_cost_nd"),
    )
    op.create_index("inventory_blocks_cost", "inventory_blocks", ["npa", "setup_cost_nd", "available"])
    op.create_table(
        "messages",
        _pk(),
        sa.Column("public_id", sa.Text, nullable=False, unique=True),
        sa.Column("account_id", BIG, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("from_number", sa.Text, nullable=False),
        sa.Column("to_number", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("is_mms", sa.Boolean, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("message_encoding", sa.Integer, nullable=False),
        sa.Column("message_type", sa.Text, nullable=False),
        sa.Column("segments", sa.Integer, nullable=False),
        sa.Column("amount_nd", BIG, nullable=False),
        sa.Column("dlr_callback", sa.Text, nullable=True),
        sa.Column("callback_url", sa.Text, nullable=True),
        sa.Column("carrier", sa.Text, nullable=True),
        sa.Column("carrier_message_id", sa.Text, nullable=True),
        sa.Column("parts_pending", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.Column("updated_at_us", BIG, nullable=False),
    )
    op.create_index("messages_account_time", "messages", ["account_id", "created_at_us", "id"])
    op.create_table(
        "carrier_message_ids",
        sa.Column("carrier", sa.Text, nullable=False),
        sa.Column("carrier_message_id", sa.Text, nullable=False),
        sa.Column("message_id", BIG, sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("part", sa.Integer, nullable=False, server_default="0"),
        sa.Column("state", sa.Text, nullable=True),
        # How a receipt may spell the id (SMSCs mix hex and decimal, drop leading zeros): the id in lower
        # case without leading zeros, and the decimal value of its hex reading. NULL for the simulator.
        sa.Column("id_key", sa.Text, nullable=True),
        sa.Column("id_value", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("carrier", "carrier_message_id"),
    )
    op.create_index("carrier_message_ids_message", "carrier_message_ids", ["message_id"])
    for column in ("id_key", "id_value"):
        op.create_index(
            f"carrier_message_ids_{column}",
            "carrier_message_ids",
            ["carrier", column],
            sqlite_where=sa.text(f"{column} IS NOT NULL"),
            postgresql_where=sa.text(f"{column} IS NOT NULL"),
        )
    op.create_table(
        "receipts",
        _pk(),
        sa.Column("message_id", BIG, sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at_us", BIG, nullable=False),
    )
    op.create_index("receipts_message", "receipts", ["message_id", "id"])
    op.create_table(
        "media",
        _pk(),
        sa.Column("public_id", sa.Text, nullable=False, unique=True),
        sa.Column("account_id", BIG, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("message_id", BIG, sa.ForeignKey("messages.id"), nullable=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("mime_type", sa.Text, nullable=False),
        sa.Column("file_size", BIG, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at_us", BIG, nullable=False),
    )
    op.create_index("media_message", "media", ["message_id", "id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("account_id", BIG, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("request_hash", sa.Text, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "scope", "key"),
    )
    op.create_table(
        "rate_limits",
        sa.Column("bucket", sa.Text, nullable=False, primary_key=True),
        sa.Column("tat_us", BIG, nullable=False),
    )
    op.create_table(
        "jobs",
        _pk(),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("run_at_us", BIG, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until_us", BIG, nullable=True),
        sa.Column("locked_by", sa.Text, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at_us", BIG, nullable=False),
    )
    op.create_index("jobs_due", "jobs", ["run_at_us", "id"])
    op.create_table(
        "failed_jobs",
        _pk(),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.Column("failed_at_us", BIG, nullable=False),
    )
    op.create_table(
        "webhook_attempts",
        _pk(),
        sa.Column("account_id", BIG, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("message_public_id", sa.Text, nullable=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at_us", BIG, nullable=False),
    )
    op.create_index("webhook_attempts_time", "webhook_attempts", ["created_at_us"])
    op.create_table(
        "webhook_dead_letters",
        _pk(),
        sa.Column("account_id", BIG, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("event", sa.Text, nullable=False),
        sa.Column("message_public_id", sa.Text, nullable=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.Column("replayed_at_us", BIG, nullable=True),
    )
    op.create_table(
        "carriers",
        _pk(),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("created_at_us", BIG, nullable=False),
        sa.Column("updated_at_us", BIG, nullable=False),
    )
    op.create_table(  # routing rules: the longest matching prefix wins; prefix '' is the default route
        "carrier_prefixes",
        sa.Column("prefix", sa.Text, nullable=False, primary_key=True),
        sa.Column("carrier", sa.Text, nullable=False),
    )
    op.create_table(
        "carrier_leases",
        sa.Column("carrier", sa.Text, nullable=False, primary_key=True),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("expires_at_us", BIG, nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="unbound"),
        sa.Column("stats", sa.Text, nullable=False, server_default="{}"),
        sa.Column("updated_at_us", BIG, nullable=False, server_default="0"),  # the holder's last report
    )
    op.create_table(
        "auth_failures",
        sa.Column("client", sa.Text, nullable=False, primary_key=True),
        sa.Column("tat_us", BIG, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "auth_failures",
        "carrier_leases",
        "carrier_prefixes",
        "carriers",
        "webhook_dead_letters",
        "webhook_attempts",
        "failed_jobs",
        "jobs",
        "rate_limits",
        "idempotency_keys",
        "media",
        "receipts",
        "carrier_message_ids",
        "messages",
        "inventory_blocks",
        "numbers",
        "routes",
        "accounts",
    ):
        op.drop_table(table)
