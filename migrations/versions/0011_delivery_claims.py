"""Outbox claims with a lease (`messages.claimed_until`, `claimed_by`): several gateway processes share one outbox.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a message left `sending` by an older gateway has no lease: it counts as expired and is sent again
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("claimed_by", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("claimed_by")
        batch.drop_column("claimed_until")
