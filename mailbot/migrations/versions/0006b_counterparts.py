"""counterparts: who receives Aideur's free text on a reply to one notification (issue 12, point 2)

Revision ID: 0006b_counterparts
Revises: 0005f_erasure
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0006b_counterparts'
down_revision = '0006a_ticket_previous'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'counterparts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('solicitation_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id']),
        sa.ForeignKeyConstraint(['solicitation_id'], ['solicitations.id']),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_counterparts_ticket_id', 'counterparts', ['ticket_id'])
    op.create_index('ix_counterparts_member_id', 'counterparts', ['member_id'])


def downgrade() -> None:
    op.drop_index('ix_counterparts_member_id', table_name='counterparts')
    op.drop_index('ix_counterparts_ticket_id', table_name='counterparts')
    op.drop_table('counterparts')
