"""Account ids are never reused on SQLite either (AUTOINCREMENT; PostgreSQL's sequence never reused them).

SQLite gives a new row the highest id plus one, so deleting the newest account (a sandbox account, say)
handed its id to the next: a callback try or a dead letter that a deleted account's in-flight work wrote
after the deletion then showed under the new account.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rebuild_accounts(autoincrement=True)


def downgrade() -> None:
    _rebuild_accounts(autoincrement=False)


def _rebuild_accounts(*, autoincrement: bool) -> None:
    """SQLite can only add AUTOINCREMENT by copying the table into a new one (the ids are kept)."""
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("accounts", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}):
        pass
