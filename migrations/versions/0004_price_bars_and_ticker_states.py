"""price bars and ticker states

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may write sqlmodel.sql.sqltypes types)
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('price_bars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticker', sa.String(length=32), nullable=False),
    sa.Column('interval', sa.String(length=8), nullable=False),
    sa.Column('timestamp', sa.DateTime(timezone=True), nullable=False),
    sa.Column('open', sa.Float(), nullable=False),
    sa.Column('high', sa.Float(), nullable=False),
    sa.Column('low', sa.Float(), nullable=False),
    sa.Column('close', sa.Float(), nullable=False),
    sa.Column('volume', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_bars')),
    sa.UniqueConstraint('ticker', 'interval', 'timestamp', name=op.f('uq_price_bars_ticker_interval_timestamp'))
    )
    op.create_table('ticker_states',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticker', sa.String(length=32), nullable=False),
    sa.Column('exchange', sa.String(length=16), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('reporting_currency', sa.String(length=3), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=True),
    sa.Column('last_bar_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_bar_interval', sa.String(length=8), nullable=True),
    sa.Column('last_price', sa.Float(), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('daily_checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stale_reason', sa.Text(), nullable=True),
    sa.Column('data_warning', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticker_states')),
    sa.UniqueConstraint('ticker', name=op.f('uq_ticker_states_ticker'))
    )
    with op.batch_alter_table('ticker_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticker_states_next_attempt_at'), ['next_attempt_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticker_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticker_states_next_attempt_at'))

    op.drop_table('ticker_states')
    op.drop_table('price_bars')
