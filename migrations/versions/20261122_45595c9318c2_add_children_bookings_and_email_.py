"""Add children, bookings and email attachments

Revision ID: 45595c9318c2
Revises: b58b49551e26
Create Date: 2026-11-22 04:30:28.291816

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '45595c9318c2'
down_revision = 'b58b49551e26'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('children',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=60), nullable=False),
    sa.Column('last_name', sa.String(length=60), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('gestation_weeks', sa.Integer(), nullable=True),
    sa.Column('care_notes', sa.Text(), nullable=False),
    sa.Column('relationship_to_carer', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('date_of_birth IS NOT NULL OR due_date IS NOT NULL', name=op.f('ck_children_born_or_due')),
    sa.CheckConstraint('gestation_weeks IS NULL OR gestation_weeks BETWEEN 22 AND 42', name=op.f('ck_children_gestation_in_range')),
    sa.ForeignKeyConstraint(['parent_id'], ['users.id'], name=op.f('fk_children_parent_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_children'))
    )
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_children_parent_id'), ['parent_id'], unique=False)

    op.create_table('outbox_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['email_id'], ['outbox_emails.id'], name=op.f('fk_outbox_attachments_email_id_outbox_emails'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_attachments'))
    )
    with op.batch_alter_table('outbox_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_attachments_email_id'), ['email_id'], unique=False)

    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=12), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('awaiting_payment', 'confirmed', 'cancelled', 'expired', name='booking_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('payment_method', sa.Enum('free', 'pay_at_venue', 'bank_transfer', name='payment_method', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('amount_pence', sa.Integer(), nullable=False),
    sa.Column('amount_paid_pence', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('hold_expires_at', sa.DateTime(), nullable=True),
    sa.Column('terms_accepted_at', sa.DateTime(), nullable=False),
    sa.Column('medical_clearance', sa.Boolean(), nullable=False),
    sa.Column('photo_consent', sa.Boolean(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('cancellation_reason', sa.Text(), nullable=True),
    sa.Column('cancellation_refundable', sa.Boolean(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status != 'awaiting_payment' OR hold_expires_at IS NOT NULL", name=op.f('ck_bookings_hold_has_expiry')),
    sa.CheckConstraint('amount_paid_pence >= 0', name=op.f('ck_bookings_paid_not_negative')),
    sa.CheckConstraint('amount_pence >= 0', name=op.f('ck_bookings_amount_not_negative')),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['users.id'], name=op.f('fk_bookings_cancelled_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_bookings_course_id_courses')),
    sa.ForeignKeyConstraint(['parent_id'], ['users.id'], name=op.f('fk_bookings_parent_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('reference', name=op.f('uq_bookings_reference'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_hold_expires_at'), ['hold_expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_status'), ['status'], unique=False)

    op.create_table('booking_places',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=True),
    sa.Column('live', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_places_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_booking_places_child_id_children'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_booking_places_course_id_courses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_places'))
    )
    with op.batch_alter_table('booking_places', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_places_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_places_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_places_course_id'), ['course_id'], unique=False)
        batch_op.create_index('uq_booking_places_live_child', ['course_id', 'child_id'], unique=True, sqlite_where=sa.text('live'), postgresql_where=sa.text('live'))

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allows_offline_payment', sa.Boolean(), server_default=sa.true(), nullable=False))



def downgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_column('allows_offline_payment')

    with op.batch_alter_table('booking_places', schema=None) as batch_op:
        batch_op.drop_index('uq_booking_places_live_child', sqlite_where=sa.text('live'), postgresql_where=sa.text('live'))
        batch_op.drop_index(batch_op.f('ix_booking_places_course_id'))
        batch_op.drop_index(batch_op.f('ix_booking_places_child_id'))
        batch_op.drop_index(batch_op.f('ix_booking_places_booking_id'))

    op.drop_table('booking_places')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_status'))
        batch_op.drop_index(batch_op.f('ix_bookings_parent_id'))
        batch_op.drop_index(batch_op.f('ix_bookings_hold_expires_at'))
        batch_op.drop_index(batch_op.f('ix_bookings_course_id'))

    op.drop_table('bookings')
    with op.batch_alter_table('outbox_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_attachments_email_id'))

    op.drop_table('outbox_attachments')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_children_parent_id'))

    op.drop_table('children')
