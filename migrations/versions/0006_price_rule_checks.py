"""price rule checks on ticker states

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may write sqlmodel.sql.sqltypes types)
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('ticker_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rules_checked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rules_firing', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('rules_blocked', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ticker_states', schema=None) as batch_op:
        batch_op.drop_column('rules_blocked')
        batch_op.drop_column('rules_firing')
        batch_op.drop_column('rules_checked_at')
