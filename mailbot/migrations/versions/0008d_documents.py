"""documents and suggestions: the club's documentation by sections, members' improvement proposals (issue 17)

Revision ID: 0008d_documents
Revises: 0008a_announcements
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0008d_documents'
down_revision = '0008a_announcements'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'documents',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('rubrique', sa.String(200), nullable=False),
        sa.Column('titre', sa.String(300), nullable=False),
        sa.Column('mots_cles', sa.Text(), nullable=False),
        sa.Column('filename', sa.String(255), nullable=False),
        sa.Column('content_type', sa.String(255), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(64), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('added_at', sa.DateTime(), nullable=False),
        sa.Column('added_by', sa.String(320), nullable=False),
    )
    op.create_index('ix_documents_sha256', 'documents', ['sha256'])
    op.create_table(
        'suggestions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('member_id', sa.Integer(), sa.ForeignKey('members.id'), nullable=True),
        sa.Column('message_id', sa.String(998), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
    )
    op.create_index('ix_suggestions_member_id', 'suggestions', ['member_id'])
    op.create_index('ix_suggestions_received_at', 'suggestions', ['received_at'])


def downgrade() -> None:
    op.drop_index('ix_suggestions_received_at', 'suggestions')
    op.drop_index('ix_suggestions_member_id', 'suggestions')
    op.drop_table('suggestions')
    op.drop_index('ix_documents_sha256', 'documents')
    op.drop_table('documents')
