"""The action server's feedback records (`feedback`) in the gateway's database, shared when it is PostgreSQL.

The same columns as the SQLite file `var/feedback.db` (common/feedback_log.py), so export, erasure and retention
read both alike. Unused while the records stay in their own file (the gateway on SQLite).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("sender_id", sa.Text(), nullable=False),
        sa.Column("faq_id", sa.Text()),
        sa.Column("helpful", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("question", sa.Text()),
    )
    op.create_index("ix_feedback_sender_id", "feedback", ["sender_id"])
    op.create_index("ix_feedback_faq_id", "feedback", ["faq_id"])


def downgrade() -> None:
    op.drop_index("ix_feedback_faq_id", table_name="feedback")
    op.drop_index("ix_feedback_sender_id", table_name="feedback")
    op.drop_table("feedback")
