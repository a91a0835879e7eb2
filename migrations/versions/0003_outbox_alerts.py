"""outbox alerts: one row per alert and channel, drained by the Slack dispatcher

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may write sqlmodel.sql.sqltypes types)
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outbox_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=100), nullable=False),
    sa.Column('throttle_key', sa.String(length=300), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome_unknown', sa.Boolean(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('lease_owner', sa.String(length=100), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('channel_id', sa.String(length=40), nullable=True),
    sa.Column('thread_ts', sa.String(length=40), nullable=True),
    sa.Column('ts', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name=op.f('ck_outbox_alerts_status')),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_outbox_alerts_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['outbox_alerts.id'], name=op.f('fk_outbox_alerts_parent_id_outbox_alerts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_alerts')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_alerts_key'))
    )
    with op.batch_alter_table('outbox_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_alerts_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_alerts_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_alerts_status_next_attempt_at'), ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_alerts_throttle_key_channel_created_at'), ['throttle_key', 'channel', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('outbox_alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_alerts_throttle_key_channel_created_at'))
        batch_op.drop_index(batch_op.f('ix_outbox_alerts_status_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_outbox_alerts_parent_id'))
        batch_op.drop_index(batch_op.f('ix_outbox_alerts_article_id'))

    op.drop_table('outbox_alerts')
