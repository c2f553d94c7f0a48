"""Channels: an outbox on messages (delivery status, attempts, error, next attempt), webhook receipts, SMS opt-outs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("delivery_status", sa.String(20)))
        batch.add_column(sa.Column("delivery_attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("delivery_error", sa.Text))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("provider_message_id", sa.String(200)))
        batch.create_index("ix_messages_delivery_status", ["delivery_status"])
    op.create_table(
        "webhook_receipts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "external_id", name="uq_webhook_receipt"),
    )
    op.create_table(
        "channel_opt_outs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "address", name="uq_channel_opt_out"),
    )


def downgrade() -> None:
    op.drop_table("channel_opt_outs")
    op.drop_table("webhook_receipts")
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_delivery_status")
        for column in (
            "provider_message_id",
            "next_attempt_at",
            "delivery_error",
            "delivery_attempts",
            "delivery_status",
        ):
            batch.drop_column(column)
