"""instance heartbeats (takeover of a dead instance's work) and a shared pace per Slack channel

Revision ID: 0009_heartbeats
Revises: 0008
Create Date: 2026-12-03
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_heartbeats'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('instance_heartbeats',
    sa.Column('instance_id', sa.String(length=80), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('instance_id', name=op.f('pk_instance_heartbeats'))
    )
    op.create_table('channel_pace',
    sa.Column('channel', sa.String(length=100), nullable=False),
    sa.Column('due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('paused_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('channel', name=op.f('pk_channel_pace'))
    )


def downgrade() -> None:
    op.drop_table('channel_pace')
    op.drop_table('instance_heartbeats')
