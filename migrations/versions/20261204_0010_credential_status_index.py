"""certificates: a position in the Open Badges credentials' status list

Revision ID: 0010
Revises: 0013
Create Date: 2026-12-04 01:45:00

Each certificate gets its bit in the W3C Bitstring Status List (131,072 bits): drawn at random and never reused.
Existing certificates get theirs here, distinct, before the column becomes required and unique.
"""
import random
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUS_LIST_SIZE = 16 * 1024 * 8  # app.models.certificate.STATUS_LIST_SIZE when this was written


def upgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_list_index', sa.Integer(), nullable=True))
    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.text('SELECT id FROM certificate ORDER BY id'))]
    for certificate_id, index in zip(ids, random.SystemRandom().sample(range(STATUS_LIST_SIZE), len(ids)),
                                     strict=True):
        connection.execute(sa.text('UPDATE certificate SET status_list_index = :index WHERE id = :id'),
                           {'index': index, 'id': certificate_id})
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.alter_column('status_list_index', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_certificate_status_list_index'), ['status_list_index'])


def downgrade() -> None:
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_certificate_status_list_index'), type_='unique')
        batch_op.drop_column('status_list_index')
