"""inbound_mails.content_sha256: a mail's content without its transport traces, for the Message-ID dedupe

Revision ID: 0005f_erasure
Revises: 0005e_commands
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0005f_erasure'
down_revision = '0005e_commands'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Same Message-ID and same content = a duplicate delivery; same Message-ID and other content = another mail,
    # processed (pipeline.content_digest). Rows recorded before this column compare their raw SHA-256 only.
    op.add_column('inbound_mails', sa.Column('content_sha256', sa.String(length=64), nullable=False,
                                             server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('inbound_mails') as batch:
        batch.drop_column('content_sha256')
