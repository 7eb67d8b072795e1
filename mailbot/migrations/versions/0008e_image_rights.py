"""image rights: the member's "droit à l'image : oui / non" (registration form and profile)

Revision ID: 0008e_image_rights
Revises: 0008c_polls
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0008e_image_rights'
down_revision = '0008c_polls'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.add_column(sa.Column('image_rights', sa.String(length=3), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('members') as batch:
        batch.drop_column('image_rights')
