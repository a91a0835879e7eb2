"""article scores: the rules' verdict stored with each article

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may write sqlmodel.sql.sqltypes types)
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine:
    # The same type as service.store.types.PortableJSON: JSON, and JSONB on PostgreSQL.
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    # Nullable: articles stored before this revision have no verdict.
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_types', _json(), nullable=True))
        batch_op.add_column(sa.Column('score', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('severity', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('alert', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('impacts', _json(), nullable=True))
        batch_op.add_column(sa.Column('relevance', _json(), nullable=True))
        batch_op.add_column(sa.Column('rules', _json(), nullable=True))
        batch_op.add_column(sa.Column('matched', _json(), nullable=True))
        batch_op.add_column(sa.Column('novelty', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('scored_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('scored_at')
        batch_op.drop_column('novelty')
        batch_op.drop_column('matched')
        batch_op.drop_column('rules')
        batch_op.drop_column('relevance')
        batch_op.drop_column('impacts')
        batch_op.drop_column('alert')
        batch_op.drop_column('severity')
        batch_op.drop_column('score')
        batch_op.drop_column('event_types')
