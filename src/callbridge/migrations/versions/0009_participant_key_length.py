"""participant keys as long as the participantIds they come from (255): PostgreSQL refused 121..255

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 00:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_participants", schema=None) as batch_op:
        batch_op.alter_column(
            "participant_key",
            existing_type=sa.String(length=120),
            type_=sa.String(length=255),
            existing_nullable=False,
            existing_comment="END_USER for the end user (privacy)",
        )


def downgrade() -> None:
    with op.batch_alter_table("conversation_participants", schema=None) as batch_op:
        batch_op.alter_column(
            "participant_key",
            existing_type=sa.String(length=255),
            type_=sa.String(length=120),
            existing_nullable=False,
            existing_comment="END_USER for the end user (privacy)",
        )
