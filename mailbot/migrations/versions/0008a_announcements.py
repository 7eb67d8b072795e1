"""announcements: a member may stop (and restart) the club's announcements of activities and polls

Revision ID: 0008a_announcements
Revises: 0007e_counterpart_address
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0008a_announcements'
down_revision = '0007e_counterpart_address'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('accepts_announcements', sa.Boolean(), nullable=False,
                                   server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.drop_column('accepts_announcements')
