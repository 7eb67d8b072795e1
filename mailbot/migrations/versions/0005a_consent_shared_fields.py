"""consents.shared_fields: which card fields each side agreed to share (restricted consent, issue 11)

Revision ID: 0005a_consent
Revises: 0004
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0005a_consent'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # "" on the rows already there: before this revision every yes covered the whole card, which is what the
    # exchange reads "" as (workflows/consents.shared_of).
    with op.batch_alter_table('consents') as batch:
        batch.add_column(sa.Column('shared_fields', sa.String(length=200), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('consents') as batch:
        batch.drop_column('shared_fields')
