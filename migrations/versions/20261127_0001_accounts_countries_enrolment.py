"""accounts countries enrolment

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 10:59:23.290464
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_COUNTRIES = [('PE', 'Perú', ('Huancavelica', 'Cajamarca', 'Amazonas', 'Apurímac')),
 ('CL',
  'Chile',
  ('Arica y Parinacota',
   'Tarapacá',
   'Antofagasta',
   'Atacama',
   'Coquimbo',
   'Valparaíso',
   'Metropolitana de Santiago',
   "Libertador General Bernardo O'Higgins",
   'Maule',
   'Ñuble',
   'Biobío',
   'La Araucanía',
   'Los Ríos',
   'Los Lagos',
   'Aysén del General Carlos Ibáñez del Campo',
   'Magallanes y de la Antártica Chilena')),
 ('CO',
  'Colombia',
  ('Amazonas',
   'Antioquia',
   'Arauca',
   'Atlántico',
   'Bogotá D.C.',
   'Bolívar',
   'Boyacá',
   'Caldas',
   'Caquetá',
   'Casanare',
   'Cauca',
   'Cesar',
   'Chocó',
   'Córdoba',
   'Cundinamarca',
   'Guainía',
   'Guaviare',
   'Huila',
   'La Guajira',
   'Magdalena',
   'Meta',
   'Nariño',
   'Norte de Santander',
   'Putumayo',
   'Quindío',
   'Risaralda',
   'San Andrés y Providencia',
   'Santander',
   'Sucre',
   'Tolima',
   'Valle del Cauca',
   'Vaupés',
   'Vichada')),
 ('MX',
  'México',
  ('Aguascalientes',
   'Baja California',
   'Baja California Sur',
   'Campeche',
   'Chiapas',
   'Chihuahua',
   'Ciudad de México',
   'Coahuila',
   'Colima',
   'Durango',
   'Estado de México',
   'Guanajuato',
   'Guerrero',
   'Hidalgo',
   'Jalisco',
   'Michoacán',
   'Morelos',
   'Nayarit',
   'Nuevo León',
   'Oaxaca',
   'Puebla',
   'Querétaro',
   'Quintana Roo',
   'San Luis Potosí',
   'Sinaloa',
   'Sonora',
   'Tabasco',
   'Tamaulipas',
   'Tlaxcala',
   'Veracruz',
   'Yucatán',
   'Zacatecas'))]


def upgrade() -> None:
    op.create_table('country',
    sa.Column('code', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('enrolled', sa.Integer(), nullable=False),
    sa.Column('waitlisted', sa.Integer(), nullable=False),
    sa.Column('eligible_regions', sa.JSON(), nullable=False),
    sa.Column('last_participant_number', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_country_capacity_not_negative')),
    sa.CheckConstraint('enrolled <= capacity', name=op.f('ck_country_enrolled_within_capacity')),
    sa.CheckConstraint('enrolled >= 0', name=op.f('ck_country_enrolled_not_negative')),
    sa.CheckConstraint('waitlisted >= 0', name=op.f('ck_country_waitlisted_not_negative')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_country'))
    )
    op.create_table('idempotency_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_record')),
    sa.UniqueConstraint('scope', 'key', name=op.f('uq_idempotency_record_scope_key'))
    )
    op.create_table('throttle_hit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_throttle_hit'))
    )
    with op.batch_alter_table('throttle_hit', schema=None) as batch_op:
        batch_op.create_index('ix_throttle_hit_key_at', ['key', 'at'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('participant', 'coordinator', 'admin', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('participant_code', sa.String(length=12), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['country_code'], ['country.code'], name=op.f('fk_user_account_country_code_country')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('email', name=op.f('uq_user_account_email')),
    sa.UniqueConstraint('participant_code', name=op.f('uq_user_account_participant_code'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_country_code'), ['country_code'], unique=False)

    op.create_table('access_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_access_token_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_access_token_token_hash'))
    )
    with op.batch_alter_table('access_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_token_user_id'), ['user_id'], unique=False)

    op.create_table('activation_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_activation_code_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_activation_code_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activation_code')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_activation_code_code_hash'))
    )
    with op.batch_alter_table('activation_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_activation_code_user_id'), ['user_id'], unique=False)

    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=40), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_audit_entry_actor_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_at'), ['at'], unique=False)

    op.create_table('participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=100), nullable=False),
    sa.Column('last_name', sa.String(length=100), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('gender', sa.String(length=10), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('region', sa.String(length=80), nullable=False),
    sa.Column('locality', sa.String(length=120), nullable=False),
    sa.Column('is_rural', sa.Boolean(), nullable=False),
    sa.Column('has_internet', sa.Boolean(), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('document_type', sa.String(length=4), nullable=True),
    sa.Column('document_number', sa.String(length=20), nullable=True),
    sa.Column('ethnicity', sa.String(length=100), nullable=True),
    sa.Column('languages', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['country_code'], ['country.code'], name=op.f('fk_participant_country_code_country')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_participant_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant')),
    sa.UniqueConstraint('user_id', name=op.f('uq_participant_user_id'))
    )
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_country_code'), ['country_code'], unique=False)
        batch_op.create_index('uq_participant_document', ['document_type', 'document_number'], unique=True)

    op.create_table('consent_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('notice_version', sa.String(length=20), nullable=False),
    sa.Column('sensitive_data', sa.Boolean(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_consent_record_participant_id_participant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_consent_record_recorded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_record'))
    )
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_record_participant_id'), ['participant_id'], unique=False)

    op.create_table('enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('status', sa.Enum('enrolled', 'waitlisted', 'withdrawn', 'completed', name='enrolmentstatus', native_enum=False, length=20), nullable=False),
    sa.Column('waitlist_position', sa.Integer(), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdraw_reason', sa.Text(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(status = 'waitlisted') = (waitlist_position IS NOT NULL)", name=op.f('ck_enrolment_position_iff_waitlisted')),
    sa.ForeignKeyConstraint(['country_code'], ['country.code'], name=op.f('fk_enrolment_country_code_country')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_enrolment_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_enrolment_participant_id_participant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment'))
    )
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.create_index('ix_enrolment_country_code_status', ['country_code', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolment_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index('uq_enrolment_one_active', ['participant_id'], unique=True, postgresql_where=sa.text("status IN ('enrolled', 'waitlisted', 'completed')"), sqlite_where=sa.text("status IN ('enrolled', 'waitlisted', 'completed')"))

    # The four countries of the Alliance, 50 seats each. Regions are frozen here as data: the app's lists may
    # change later, this migration must not.
    country = sa.table(
        "country",
        sa.column("code", sa.String), sa.column("name", sa.String), sa.column("capacity", sa.Integer),
        sa.column("enrolled", sa.Integer), sa.column("waitlisted", sa.Integer),
        sa.column("eligible_regions", sa.JSON), sa.column("last_participant_number", sa.Integer),
    )
    op.bulk_insert(country, [
        {"code": code, "name": name, "capacity": 50, "enrolled": 0, "waitlisted": 0,
         "eligible_regions": list(regions), "last_participant_number": 0}
        for code, name, regions in _COUNTRIES
    ])


def downgrade() -> None:
    with op.batch_alter_table('enrolment', schema=None) as batch_op:
        batch_op.drop_index('uq_enrolment_one_active', postgresql_where=sa.text("status IN ('enrolled', 'waitlisted', 'completed')"), sqlite_where=sa.text("status IN ('enrolled', 'waitlisted', 'completed')"))
        batch_op.drop_index(batch_op.f('ix_enrolment_participant_id'))
        batch_op.drop_index('ix_enrolment_country_code_status')

    op.drop_table('enrolment')
    with op.batch_alter_table('consent_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_record_participant_id'))

    op.drop_table('consent_record')
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index('uq_participant_document')
        batch_op.drop_index(batch_op.f('ix_participant_country_code'))

    op.drop_table('participant')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_at'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_action'))

    op.drop_table('audit_entry')
    with op.batch_alter_table('activation_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activation_code_user_id'))

    op.drop_table('activation_code')
    with op.batch_alter_table('access_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_token_user_id'))

    op.drop_table('access_token')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_country_code'))

    op.drop_table('user_account')
    with op.batch_alter_table('throttle_hit', schema=None) as batch_op:
        batch_op.drop_index('ix_throttle_hit_key_at')

    op.drop_table('throttle_hit')
    op.drop_table('idempotency_record')
    op.drop_table('country')
