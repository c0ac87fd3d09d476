"""console security: sessions remember the password they signed in with; failed sign-ins for throttling

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 00:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import callbridge.kit.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agent_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "password_stamp",
                sa.String(length=64),
                nullable=True,
                comment="SHA-256 of the password hash it signed in with: a new password ends the session",
            )
        )
    op.create_table(
        "sign_in_attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "subject", sa.String(length=64), nullable=False, comment="SHA-256 of 'username:...' or 'address:...'"
        ),
        sa.Column("attempted_at", callbridge.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    with op.batch_alter_table("sign_in_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_attempts_attempted_at"), ["attempted_at"], unique=False)
        batch_op.create_index("ix_sign_in_attempts_subject_at", ["subject", "attempted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sign_in_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_sign_in_attempts_subject_at")
        batch_op.drop_index(batch_op.f("ix_sign_in_attempts_attempted_at"))
    op.drop_table("sign_in_attempts")
    with op.batch_alter_table("agent_sessions", schema=None) as batch_op:
        batch_op.drop_column("password_stamp")
