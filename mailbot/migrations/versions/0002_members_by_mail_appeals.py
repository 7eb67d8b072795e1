"""members by mail, appeals

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Columns added to existing tables get a server default: rows from 0001 must stay valid.
    op.create_table('mailbox_purges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=998), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mailbox_purges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailbox_purges_done_at'), ['done_at'], unique=False)

    op.create_table('acceptances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('conditions_version', sa.String(length=20), nullable=False, server_default=''),
    sa.Column('accepted_at', sa.DateTime(), nullable=False),
    sa.Column('message_id', sa.String(length=998), nullable=False),
    sa.Column('line', sa.Text(), nullable=False),
    sa.Column('raw_sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('acceptances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acceptances_member_id'), ['member_id'], unique=False)

    op.create_table('member_terms',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('term', sa.String(length=60), nullable=False),
    sa.Column('field', sa.String(length=1), nullable=False),
    sa.Column('word', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.PrimaryKeyConstraint('member_id', 'term', 'field')
    )
    with op.batch_alter_table('member_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_terms_term'), ['term'], unique=False)

    op.create_table('appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('skills', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeals_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('solicitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('appeal_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('offer_number', sa.Integer(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('asked_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('told_over_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['appeal_id'], ['appeals.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('solicitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_solicitations_appeal_id'), ['appeal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_solicitations_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_solicitations_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index('ux_solicitation_appeal_member', ['appeal_id', 'member_id'], unique=True)

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activity', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('postal_address', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('conditions_version', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('ended_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('pending_action', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('pending_since', sa.DateTime(), nullable=True))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('about', sa.String(length=320), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('scrub_after_send', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_outbox_about'), ['about'], unique=False)

    # ### end Alembic commands ###


def downgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_about'))
        batch_op.drop_column('scrub_after_send')
        batch_op.drop_column('about')

    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('pending_since')
        batch_op.drop_column('pending_action')
        batch_op.drop_column('ended_at')
        batch_op.drop_column('conditions_version')
        batch_op.drop_column('postal_address')
        batch_op.drop_column('activity')

    with op.batch_alter_table('solicitations', schema=None) as batch_op:
        batch_op.drop_index('ux_solicitation_appeal_member')
        batch_op.drop_index(batch_op.f('ix_solicitations_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_solicitations_member_id'))
        batch_op.drop_index(batch_op.f('ix_solicitations_appeal_id'))

    op.drop_table('solicitations')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeals_ticket_id'))

    op.drop_table('appeals')
    with op.batch_alter_table('member_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_terms_term'))

    op.drop_table('member_terms')
    with op.batch_alter_table('acceptances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acceptances_member_id'))

    op.drop_table('acceptances')
    with op.batch_alter_table('mailbox_purges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailbox_purges_done_at'))

    op.drop_table('mailbox_purges')
    # ### end Alembic commands ###
