"""members.civility: Madame / Monsieur / not given (NULL), asked at registration, for agreement in mails

Revision ID: 0006d_civility
Revises: 0005f_erasure
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0006d_civility'
down_revision = '0006e_promise_reasons'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: not given (every member registered before this question, and whoever prefers not to say): the mails
    # then use a wording that needs no agreement.
    op.add_column('members', sa.Column('civility', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.drop_column('civility')
