"""job queue: procrastinate's tables and functions, on PostgreSQL only (SQLite runs jobs in the service)

The schema is procrastinate 3.10.0's own ``schema.sql``, copied next to this file so that this revision creates
the same thing whatever version is installed later; a newer procrastinate brings its own migration scripts
(``procrastinate/sql/migrations``), to be applied in a later revision of ours.

Revision ID: 0009
Revises: 0010
Create Date: 2026-12-04 01:40:00
"""
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = '0009'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = Path(__file__).with_name('0009_procrastinate_3.10.0_schema.sql')


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    # several statements in one; psycopg reads '%' as a placeholder even without parameters: doubled
    op.get_bind().exec_driver_sql(SCHEMA.read_text(encoding='utf-8').replace('%', '%%'))


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    # tables first (their triggers go with them), then every function and type the schema made
    op.get_bind().exec_driver_sql("""
        DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
            procrastinate_workers CASCADE;
        DO $$
        DECLARE item record;
        BEGIN
            FOR item IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
                        JOIN pg_namespace n ON n.oid = p.pronamespace
                        WHERE n.nspname = current_schema() AND left(p.proname, 14) = 'procrastinate_' LOOP
                EXECUTE 'DROP FUNCTION ' || item.signature || ' CASCADE';
            END LOOP;
        END $$;
        DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
            procrastinate_job_status CASCADE;
    """)
