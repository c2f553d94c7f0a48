"""Contacts, agents, conversations, messages.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200)),
        sa.Column("email", sa.String(320)),
        sa.Column("phone", sa.String(50)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("token", sa.String(100), nullable=False),
        sa.Column("rasa_sender_id", sa.String(100), nullable=False, unique=True),
        sa.Column("state", sa.String(30), nullable=False),
        sa.Column("handoff_reason", sa.String(50)),
        sa.Column("handoff", sa.JSON),
        sa.Column("waiting_since", sa.DateTime(timezone=True)),
        sa.Column("assignee_id", sa.Integer, sa.ForeignKey("agents.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_conversations_token", "conversations", ["token"], unique=True)
    op.create_index("ix_conversations_state", "conversations", ["state"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"), nullable=False),
        sa.Column("direction", sa.String(20), nullable=False),
        sa.Column("sender", sa.String(20), nullable=False),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id")),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("payload", sa.JSON),
        sa.Column("source_id", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("conversation_id", "source_id", name="uq_message_source"),
    )
    op.create_index("ix_messages_conversation_id", "messages", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_table("conversations")
    op.drop_table("agents")
    op.drop_table("contacts")
