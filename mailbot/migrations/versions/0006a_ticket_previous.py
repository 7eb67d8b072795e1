"""tickets.previous_id: a request started by a member's reply to a request closed long ago links to it

Revision ID: 0006a_ticket_previous
Revises: 0005f_erasure
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0006a_ticket_previous'
down_revision = '0005f_erasure'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('previous_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_tickets_previous_id', 'tickets', ['previous_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.drop_constraint('fk_tickets_previous_id', type_='foreignkey')
        batch.drop_column('previous_id')
