"""reports: an index of progress events by woman and time (last activity, weekly activity)

Revision ID: 0013
Revises: 0008
Create Date: 2026-12-04 01:45:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('progress_event', schema=None) as batch_op:
        batch_op.create_index('ix_progress_event_participant_id_effective_at', ['participant_id', 'effective_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('progress_event', schema=None) as batch_op:
        batch_op.drop_index('ix_progress_event_participant_id_effective_at')
