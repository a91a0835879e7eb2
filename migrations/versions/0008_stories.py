"""stories: one event across outlets, its index of bands and event keys, per-feed backfill

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may write sqlmodel.sql.sqltypes types)
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('stories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=True),
    sa.Column('severity', sa.String(length=10), nullable=True),
    sa.Column('sources', JSON, nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('official', sa.Boolean(), nullable=False),
    sa.Column('tickers', JSON, nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('quiet_reason', sa.String(length=20), nullable=True),
    sa.Column('alerted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stories'))
    )
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stories_last_seen'), ['last_seen'], unique=False)

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('story_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sketch', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('signature', JSON, nullable=True))
        batch_op.add_column(sa.Column('quiet', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_articles_story_id'), ['story_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_articles_story_id_stories'), 'stories', ['story_id'], ['id'], ondelete='SET NULL'
        )

    op.create_table('story_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.BigInteger(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('story_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], name=op.f('fk_story_keys_article_id_articles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['story_id'], ['stories.id'], name=op.f('fk_story_keys_story_id_stories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_story_keys'))
    )
    with op.batch_alter_table('story_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_story_keys_key_at'), ['key', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_story_keys_article_id'), ['article_id'], unique=False)

    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backfill', sa.String(length=10), nullable=False, server_default='quiet'))

    with op.batch_alter_table('outbox_alerts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('story_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sort_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_alerts_story_id'), ['story_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_outbox_alerts_story_id_stories'), 'stories', ['story_id'], ['id'], ondelete='SET NULL'
        )
    # Rows queued before this revision go out in the order they were queued, as they did.
    op.execute("UPDATE outbox_alerts SET sort_at = created_at")
    with op.batch_alter_table('outbox_alerts', schema=None) as batch_op:
        batch_op.alter_column('sort_at', existing_type=sa.DateTime(timezone=True), nullable=False)
    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.alter_column('backfill', existing_type=sa.String(length=10), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('outbox_alerts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_alerts_story_id_stories'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_alerts_story_id'))
        batch_op.drop_column('sort_at')
        batch_op.drop_column('story_id')

    with op.batch_alter_table('feeds', schema=None) as batch_op:
        batch_op.drop_column('backfill')

    with op.batch_alter_table('story_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_story_keys_article_id'))
        batch_op.drop_index(batch_op.f('ix_story_keys_key_at'))
    op.drop_table('story_keys')

    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_articles_story_id_stories'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_articles_story_id'))
        batch_op.drop_column('quiet')
        batch_op.drop_column('signature')
        batch_op.drop_column('sketch')
        batch_op.drop_column('story_id')

    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stories_last_seen'))
    op.drop_table('stories')
