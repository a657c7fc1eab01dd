"""offline packages and narration cache

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('offline_package',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_version_id', sa.Integer(), nullable=False),
    sa.Column('tier', sa.String(length=8), nullable=False),
    sa.Column('zip_sha256', sa.String(length=64), nullable=False),
    sa.Column('zip_bytes', sa.Integer(), nullable=False),
    sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
    sa.Column('manifest_bytes', sa.Integer(), nullable=False),
    sa.Column('narrated_lessons', sa.Integer(), nullable=False),
    sa.Column('lessons', sa.Integer(), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['module_version_id'], ['module_version.id'],
                            name=op.f('fk_offline_package_module_version_id_module_version'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offline_package')),
    sa.UniqueConstraint('module_version_id', 'tier', name=op.f('uq_offline_package_module_version_id_tier'))
    )
    with op.batch_alter_table('offline_package', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offline_package_module_version_id'), ['module_version_id'], unique=False)
    op.create_table('narration',
    sa.Column('text_sha256', sa.String(length=64), nullable=False),
    sa.Column('voice', sa.String(length=40), nullable=False),
    sa.Column('audio_sha256', sa.String(length=64), nullable=False),
    sa.Column('bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('text_sha256', 'voice', name=op.f('pk_narration'))
    )


def downgrade() -> None:
    op.drop_table('narration')
    with op.batch_alter_table('offline_package', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offline_package_module_version_id'))
    op.drop_table('offline_package')
