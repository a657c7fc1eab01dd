"""content and progress

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 11:29:49.776562
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('content_blob',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=60), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_content_blob'))
    )
    op.create_table('content_module',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('current_version', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_module')),
    sa.UniqueConstraint('slug', name=op.f('uq_content_module_slug'))
    )
    op.create_table('module_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['content_module.id'], name=op.f('fk_module_version_module_id_content_module'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_module_version')),
    sa.UniqueConstraint('module_id', 'version', name=op.f('uq_module_version_module_id_version'))
    )
    with op.batch_alter_table('module_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_module_version_module_id'), ['module_id'], unique=False)

    op.create_table('lesson_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('module', sa.String(length=80), nullable=False),
    sa.Column('lesson', sa.String(length=80), nullable=False),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.Column('viewed_completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('quiz_passed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('quiz_best_score', sa.Double(), nullable=True),
    sa.Column('quiz_attempts', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_lesson_progress_participant_id_participant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_progress')),
    sa.UniqueConstraint('participant_id', 'module', 'lesson', name=op.f('uq_lesson_progress_participant_id_module_lesson'))
    )
    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lesson_progress_participant_id'), ['participant_id'], unique=False)

    op.create_table('module_completion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('module', sa.String(length=80), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_module_completion_participant_id_participant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_module_completion')),
    sa.UniqueConstraint('participant_id', 'module', name=op.f('uq_module_completion_participant_id_module'))
    )
    with op.batch_alter_table('module_completion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_module_completion_participant_id'), ['participant_id'], unique=False)

    op.create_table('progress_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=20), nullable=False),
    sa.Column('module', sa.String(length=80), nullable=False),
    sa.Column('module_version', sa.String(length=64), nullable=False),
    sa.Column('lesson', sa.String(length=80), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('effective_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.Column('score', sa.Double(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('device_id', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_progress_event_participant_id_participant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_event')),
    sa.UniqueConstraint('participant_id', 'event_id', name=op.f('uq_progress_event_participant_id_event_id'))
    )
    with op.batch_alter_table('progress_event', schema=None) as batch_op:
        batch_op.create_index('ix_progress_event_participant_id_module', ['participant_id', 'module'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('progress_event', schema=None) as batch_op:
        batch_op.drop_index('ix_progress_event_participant_id_module')

    op.drop_table('progress_event')
    with op.batch_alter_table('module_completion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_module_completion_participant_id'))

    op.drop_table('module_completion')
    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lesson_progress_participant_id'))

    op.drop_table('lesson_progress')
    with op.batch_alter_table('module_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_module_version_module_id'))

    op.drop_table('module_version')
    op.drop_table('content_module')
    op.drop_table('content_blob')
