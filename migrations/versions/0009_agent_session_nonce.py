"""A staff account's session nonce (`agents.session_nonce`): logout invalidates the session cookie server-side.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # existing rows keep NULL: the next login sets one; sessions from before the upgrade log in again
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("session_nonce", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("session_nonce")
