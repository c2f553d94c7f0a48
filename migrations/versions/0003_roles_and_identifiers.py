"""Roles (agent / editor / admin), customers' identifiers across channels, a conversation's channel address.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("role", sa.String(20), nullable=False, server_default="agent"))
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("channel_address", sa.String(320)))
        batch.create_index("ix_conversations_channel_address", ["channel_address"])
    op.create_table(
        "contact_identifiers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(30)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("kind", "value", name="uq_contact_identifier"),
    )
    op.create_index("ix_contact_identifiers_contact_id", "contact_identifiers", ["contact_id"])


def downgrade() -> None:
    op.drop_index("ix_contact_identifiers_contact_id", "contact_identifiers")
    op.drop_table("contact_identifiers")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_index("ix_conversations_channel_address")
        batch.drop_column("channel_address")
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("role")
