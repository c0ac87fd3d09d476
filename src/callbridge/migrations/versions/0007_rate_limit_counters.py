"""rate limit counters: the per-org windows of CALLBRIDGE_LIMITS=salesforce, shared by processes on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 00:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # UNLOGGED on PostgreSQL: a counter lost in a crash costs nothing, and a take then commits without a WAL
    # flush (measured here: 10.5 ms per take logged, 4.4 ms unlogged, on a loaded 2-core machine).
    unlogged = ["UNLOGGED"] if op.get_context().dialect.name == "postgresql" else []
    op.create_table(
        "rate_limit_counters",
        sa.Column("org_id", sa.String(length=18), nullable=False),
        sa.Column("limit_name", sa.String(length=64), nullable=False, comment="e.g. new_voice_calls"),
        sa.Column("window_start", sa.BigInteger(), nullable=False, comment="epoch seconds the current window began"),
        sa.Column("used", sa.BigInteger(), nullable=False, comment="what the current window has taken"),
        sa.PrimaryKeyConstraint("org_id", "limit_name", name=op.f("pk_rate_limit_counters")),
        prefixes=unlogged,
    )


def downgrade() -> None:
    op.drop_table("rate_limit_counters")
