"""absences: Aideur's declared absences (#absent DU AU [MOTIF])

Revision ID: 0007b_absences
Revises: 0007a_member_addresses
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0007b_absences'
down_revision = '0007a_member_addresses'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'absences',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=320), nullable=False, server_default=''),
        sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table('absences')
