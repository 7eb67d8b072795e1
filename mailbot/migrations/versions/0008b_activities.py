"""activities: bookable activities (issue 17, point 1), their bookings with one seat number each

Revision ID: 0008b_activities
Revises: 0008e_image_rights
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0008b_activities'
down_revision = '0008e_image_rights'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'activities',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('ref', sa.String(32), nullable=False, unique=True),
        sa.Column('kind', sa.String(40), nullable=False),
        sa.Column('title', sa.String(300), nullable=False),
        sa.Column('starts_at', sa.DateTime(), nullable=False, index=True),
        sa.Column('duration_minutes', sa.Integer(), nullable=False),
        sa.Column('place', sa.Text(), nullable=False),
        sa.Column('places', sa.Integer(), nullable=False),
        sa.Column('fee', sa.String(100), nullable=False),
        sa.Column('booking_until', sa.DateTime()),
        sa.Column('cancel_until', sa.DateTime()),
        sa.Column('skills', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('status', sa.String(12), nullable=False),
        sa.Column('auto_promote', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(320), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('cancel_reason', sa.Text(), nullable=False),
        sa.Column('reminded_at', sa.DateTime()),
        sa.Column('closed_at', sa.DateTime()),
        sa.Column('followed_up_at', sa.DateTime()),
        sa.Column('version', sa.Integer(), nullable=False),
    )
    op.create_table(
        'activity_counters',
        sa.Column('year', sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
    )
    op.create_table(
        'bookings',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('activity_id', sa.Integer(), sa.ForeignKey('activities.id'), nullable=False, index=True),
        sa.Column('member_id', sa.Integer(), sa.ForeignKey('members.id'), nullable=False, index=True),
        sa.Column('status', sa.String(12), nullable=False),
        sa.Column('seat', sa.Integer()),
        sa.Column('position', sa.Integer()),
        sa.Column('at', sa.DateTime()),
        sa.Column('offer_expires_at', sa.DateTime()),
        sa.Column('invited_at', sa.DateTime(), nullable=False),
    )
    op.create_index('ux_booking_activity_member', 'bookings', ['activity_id', 'member_id'], unique=True)
    op.create_index('ux_booking_activity_seat', 'bookings', ['activity_id', 'seat'], unique=True)


def downgrade() -> None:
    op.drop_index('ux_booking_activity_seat', 'bookings')
    op.drop_index('ux_booking_activity_member', 'bookings')
    op.drop_table('bookings')
    op.drop_table('activity_counters')
    op.drop_table('activities')
