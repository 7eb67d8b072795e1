"""Aideur's command address generation, commands waiting for his confirmation, domains seen signing his mail

Revision ID: 0005e_commands
Revises: 0005c_address
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0005e_commands'
down_revision = '0005c_address'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New tables only: no row in aideur_state means generation 0, the command address every club has today.
    op.create_table('aideur_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('command_generation', sa.Integer(), nullable=False),
    sa.Column('rotated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('pending_commands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('from_address', sa.String(length=320), nullable=False),
    sa.Column('message_id', sa.String(length=998), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pending_commands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_commands_ticket_id'), ['ticket_id'], unique=False)
    op.create_table('signing_domains',
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('domain')
    )


def downgrade() -> None:
    op.drop_table('signing_domains')
    with op.batch_alter_table('pending_commands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_commands_ticket_id'))
    op.drop_table('pending_commands')
    op.drop_table('aideur_state')
