"""polls: questions to the members, with anonymous ballots kept apart from who voted (issue 17, point 2)

Revision ID: 0008c_polls
Revises: 0008d_documents
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0008c_polls'
down_revision = '0008d_documents'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'polls',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('ref', sa.String(20), nullable=False, unique=True),
        sa.Column('question', sa.Text(), nullable=False),
        sa.Column('closes_at', sa.DateTime(), nullable=False),
        sa.Column('anonymous', sa.Boolean(), nullable=False),
        sa.Column('results_to', sa.String(10), nullable=False),
        sa.Column('skills', sa.Text(), nullable=False),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('activity_ref', sa.String(20), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(320), nullable=False),
        sa.Column('reminded_at', sa.DateTime()),
        sa.Column('closed_at', sa.DateTime()),
    )
    op.create_table(
        'poll_choices',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('poll_id', sa.Integer(), sa.ForeignKey('polls.id'), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('label', sa.Text(), nullable=False),
    )
    op.create_index('ix_poll_choices_poll_id', 'poll_choices', ['poll_id'])
    op.create_table(
        'poll_participants',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('poll_id', sa.Integer(), sa.ForeignKey('polls.id'), nullable=False),
        sa.Column('member_id', sa.Integer(), sa.ForeignKey('members.id'), nullable=False),
        sa.Column('has_voted', sa.Boolean(), nullable=False),
    )
    op.create_index('ix_poll_participants_poll_id', 'poll_participants', ['poll_id'])
    op.create_index('ix_poll_participants_member_id', 'poll_participants', ['member_id'])
    op.create_index('ux_poll_participants_poll_member', 'poll_participants', ['poll_id', 'member_id'], unique=True)
    op.create_table(
        'poll_votes',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('poll_id', sa.Integer(), sa.ForeignKey('polls.id'), nullable=False),
        sa.Column('member_id', sa.Integer(), sa.ForeignKey('members.id'), nullable=False),
        sa.Column('choice_id', sa.Integer(), sa.ForeignKey('poll_choices.id'), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_poll_votes_poll_id', 'poll_votes', ['poll_id'])
    op.create_index('ux_poll_votes_poll_member', 'poll_votes', ['poll_id', 'member_id'], unique=True)
    op.create_table(
        'poll_ballots',
        sa.Column('key', sa.String(64), primary_key=True),
        sa.Column('poll_id', sa.Integer(), sa.ForeignKey('polls.id'), nullable=False),
        sa.Column('choice_id', sa.Integer(), sa.ForeignKey('poll_choices.id'), nullable=False),
        sqlite_with_rowid=False,  # no rowid: the storage order does not follow the order of the votes
    )
    op.create_index('ix_poll_ballots_poll_id', 'poll_ballots', ['poll_id'])


def downgrade() -> None:
    for table in ('poll_ballots', 'poll_votes', 'poll_participants', 'poll_choices', 'polls'):
        op.drop_table(table)
