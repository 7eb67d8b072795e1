"""pending_changes: profile changes and registrations asked by a mail that did not prove its address

Revision ID: 0005c_address
Revises: 0005a_consent
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0005c_address'
down_revision = '0005a_consent'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pending_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('values', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('asked_at', sa.DateTime(), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('message_id', sa.String(length=998), nullable=False),
        sa.Column('raw_sha256', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_pending_changes_email'), 'pending_changes', ['email'], unique=False)
    op.create_index(op.f('ix_pending_changes_member_id'), 'pending_changes', ['member_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_pending_changes_member_id'), table_name='pending_changes')
    op.drop_index(op.f('ix_pending_changes_email'), table_name='pending_changes')
    op.drop_table('pending_changes')
