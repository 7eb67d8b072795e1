"""tickets.delay_reason_due: the due date a delay reason was given for (a reason belongs to one promise)

Revision ID: 0006e_promise_reasons
Revises: 0005f_erasure
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0006e_promise_reasons'
down_revision = '0006f_directory_matching'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A reason is told to the member only while the promise it was given for stands (workflows/deadlines.py);
    # a reason kept before this column was given for the ticket's current due date, if any.
    op.add_column('tickets', sa.Column('delay_reason_due', sa.DateTime(), nullable=True))
    op.execute("UPDATE tickets SET delay_reason_due = due_at WHERE delay_reason <> ''")


def downgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('delay_reason_due')
