"""blob bytes move from the database to the file storage

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00

The migration cannot know where an installation keeps its files, so it does not copy the bytes out: after
upgrading, run ``caminos content load`` once; it writes every media file of the content folder to the storage
again (the rows, already there, do not change). Downgrading deletes the blob rows (their bytes are gone) and
restores the column; the earlier version's ``caminos content load`` then inserts them again with their bytes.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('content_blob', schema=None) as batch_op:
        batch_op.drop_column('data')


def downgrade() -> None:
    # no row may stay without its bytes under the earlier schema (NOT NULL); nothing references a blob row
    op.execute(sa.text('DELETE FROM content_blob'))
    with op.batch_alter_table('content_blob', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data', sa.LargeBinary(), nullable=False))
