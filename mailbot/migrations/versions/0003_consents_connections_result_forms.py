"""consents, connections, result forms

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # New tables only: nothing to backfill.
    op.create_table('result_forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('cause', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('reminders', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('satisfaction', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answer_message_id', sa.String(length=998), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('result_forms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_result_forms_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_result_forms_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_result_forms_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('helper_id', sa.Integer(), nullable=False),
    sa.Column('solicitation_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['helper_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['requester_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['solicitation_id'], ['solicitations.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connections_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_connections_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('connection_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('asked_at', sa.DateTime(), nullable=False),
    sa.Column('asked_message_id', sa.String(length=998), nullable=False),
    sa.Column('asked_sha256', sa.String(length=64), nullable=False),
    sa.Column('answer_line', sa.Text(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answer_message_id', sa.String(length=998), nullable=False),
    sa.Column('answer_sha256', sa.String(length=64), nullable=False),
    sa.Column('reminded_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['connection_id'], ['connections.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_connection_id'), ['connection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consents_member_id'), ['member_id'], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    # New tables only: nothing to backfill.
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_member_id'))
        batch_op.drop_index(batch_op.f('ix_consents_connection_id'))

    op.drop_table('consents')
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connections_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_connections_status'))

    op.drop_table('connections')
    with op.batch_alter_table('result_forms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_result_forms_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_result_forms_status'))
        batch_op.drop_index(batch_op.f('ix_result_forms_member_id'))

    op.drop_table('result_forms')
    # ### end Alembic commands ###
