"""A customer message's outcome (`messages.outcome`): which ones still wait for the bot after a crash or an outage.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # existing rows keep NULL ("nothing owed"): only messages stored from now on can be pending
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("outcome", sa.String(20)))
        batch.create_index("ix_messages_outcome", ["outcome"])


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_outcome")
        batch.drop_column("outcome")
