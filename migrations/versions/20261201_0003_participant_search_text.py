"""participant search text: names without accents or case, and the document number

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:50:00
"""
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fold(text: str) -> str:
    # the same rule as app.core.text.fold at the time of writing (migrations do not import the app)
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def upgrade() -> None:
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.String(length=400), server_default='', nullable=False))
    participant = sa.table('participant', sa.column('id', sa.Integer), sa.column('first_name', sa.String),
                           sa.column('last_name', sa.String), sa.column('document_number', sa.String),
                           sa.column('search_text', sa.String))
    conn = op.get_bind()
    rows = conn.execute(sa.select(participant.c.id, participant.c.first_name, participant.c.last_name,
                                  participant.c.document_number)).all()
    for row in rows:
        document = "".join(ch for ch in row.document_number or "" if ch.isalnum()).lower()
        text = " ".join(filter(None, (_fold(row.first_name), _fold(row.last_name), document)))
        conn.execute(participant.update().where(participant.c.id == row.id).values(search_text=text))


def downgrade() -> None:
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_column('search_text')
