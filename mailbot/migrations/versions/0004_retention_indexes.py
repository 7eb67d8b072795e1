"""indexes for the retention job's range scans (messages.at, inbound_mails.received_at)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The retention job runs every MAILBOT_JOBS_SECONDS: its "older than the limit" filters use these.
    op.create_index(op.f('ix_messages_at'), 'messages', ['at'], unique=False)
    op.create_index(op.f('ix_inbound_mails_received_at'), 'inbound_mails', ['received_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_inbound_mails_received_at'), table_name='inbound_mails')
    op.drop_index(op.f('ix_messages_at'), table_name='messages')
