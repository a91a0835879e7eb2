"""calendar reminders: outbox rows may be `skipped` (a reminder a later one made moot)

Reminders reuse the outbox (kind "reminder", one row per reminder and channel under its unique
key); the only schema change is the status a superseded reminder ends in.

Revision ID: 0010_reminders
Revises: 0009_heartbeats
Create Date: 2026-12-03
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0010_reminders'
down_revision: str | None = '0009_heartbeats'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_alerts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_alerts_status'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_outbox_alerts_status'), "status IN ('pending', 'sent', 'failed', 'skipped')"
        )


def downgrade() -> None:
    # A skipped reminder was never sent, and never will be: as a failure it stays unsent.
    op.execute("UPDATE outbox_alerts SET status = 'failed' WHERE status = 'skipped'")
    with op.batch_alter_table('outbox_alerts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_alerts_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_outbox_alerts_status'), "status IN ('pending', 'sent', 'failed')")
