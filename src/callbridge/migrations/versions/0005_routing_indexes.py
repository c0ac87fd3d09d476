"""routing indexes: dispatch skips offered routings in the index; a queue's backlog by queue_id

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 22:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DISPATCH = "ix_pending_service_routings_dispatch"


def upgrade() -> None:
    with op.batch_alter_table("pending_service_routings", schema=None) as batch_op:
        batch_op.drop_index(_DISPATCH)
        batch_op.create_index(
            _DISPATCH, ["org_id", "is_ready_for_routing", "offer_id", "priority", "created_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pending_service_routings_queue_id"), ["queue_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pending_service_routings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_service_routings_queue_id"))
        batch_op.drop_index(_DISPATCH)
        batch_op.create_index(_DISPATCH, ["org_id", "is_ready_for_routing", "priority"], unique=False)
