"""counterparts.address: Aideur's reply to a « Message d'un non-membre » notice goes to that address (issue 13)

Revision ID: 0007e_counterpart_address
Revises: 0007b_absences
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0007e_counterpart_address'
down_revision = '0007b_absences'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only for kind "stranger" (someone who is not a member): a member's counterpart names the member row, whose
    # address may change; a stranger has no row, so the address the notice was about is kept (erased with them).
    op.add_column('counterparts', sa.Column('address', sa.String(length=320), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('counterparts') as batch:
        batch.drop_column('address')
