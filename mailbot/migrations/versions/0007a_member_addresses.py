"""member_addresses: a member's other addresses; held_requests: what an unknown address asked meanwhile (issue 13)

Revision ID: 0007a_member_addresses
Revises: 0006d_civility
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0007a_member_addresses'
down_revision = '0006d_civility'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'member_addresses',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('member_id', sa.Integer(), sa.ForeignKey('members.id'), nullable=False),
        # Unique: an address is one person's, never two members' (the lookup would otherwise have to choose).
        sa.Column('email', sa.String(length=320), nullable=False, unique=True),
        sa.Column('added_at', sa.DateTime(), nullable=False),
        sa.Column('how', sa.String(length=20), nullable=False),
    )
    op.create_index('ix_member_addresses_member_id', 'member_addresses', ['member_id'])
    # What an unknown address asked, kept until it is linked to a member (then a ticket) or for PENDING_DAYS.
    op.create_table(
        'held_requests',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('subject', sa.String(length=998), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('message_id', sa.String(length=998), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_held_requests_email', 'held_requests', ['email'])


def downgrade() -> None:
    op.drop_index('ix_held_requests_email', table_name='held_requests')
    op.drop_table('held_requests')
    op.drop_index('ix_member_addresses_member_id', table_name='member_addresses')
    op.drop_table('member_addresses')
