"""Add payments, refunds, Stripe events, flags, vouchers and discounts

Revision ID: f6fb8b3d4c78
Revises: 45595c9318c2
Create Date: 2026-11-22 05:10:34.206367

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f6fb8b3d4c78'
down_revision = '45595c9318c2'
branch_labels = None
depends_on = None

PAYMENT_METHOD_CHECK = "payment_method IN ({})"
OLD_METHODS = "'free', 'pay_at_venue', 'bank_transfer'"
NEW_METHODS = "'free', 'card', 'pay_at_venue', 'bank_transfer', 'funded'"


def upgrade():
    op.create_table('stripe_events',
    sa.Column('id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stripe_events'))
    )
    op.create_table('vouchers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.Enum('percent', 'fixed', 'funded', name='voucher_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('max_uses', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('track', sa.Enum('family', 'premature', 'adoptive_foster', 'antenatal', 'workshop', name='voucher_track', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('referrer', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind != 'fixed' OR value > 0", name=op.f('ck_vouchers_fixed_positive')),
    sa.CheckConstraint("kind != 'percent' OR (value > 0 AND value <= 100)", name=op.f('ck_vouchers_percent_in_range')),
    sa.CheckConstraint('max_uses IS NULL OR max_uses > 0', name=op.f('ck_vouchers_max_uses_positive')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_vouchers_course_id_courses')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_vouchers_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vouchers')),
    sa.UniqueConstraint('code', name=op.f('uq_vouchers_code'))
    )
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vouchers_course_id'), ['course_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.Enum('free', 'card', 'pay_at_venue', 'bank_transfer', 'funded', name='payment_method', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'processing', 'succeeded', 'failed', 'expired', name='payment_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('amount_pence', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_refunded_pence', sa.Integer(), nullable=False),
    sa.Column('stripe_checkout_session_id', sa.String(length=255), nullable=True),
    sa.Column('stripe_payment_intent_id', sa.String(length=255), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('succeeded_at', sa.DateTime(), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('request_key', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_payments_amount_positive')),
    sa.CheckConstraint('amount_refunded_pence >= 0 AND amount_refunded_pence <= amount_pence', name=op.f('ck_payments_refunds_within_amount')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_payments_booking_id_bookings')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_payments_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('request_key', name=op.f('uq_payments_request_key')),
    sa.UniqueConstraint('stripe_checkout_session_id', name=op.f('uq_payments_stripe_checkout_session_id')),
    sa.UniqueConstraint('stripe_payment_intent_id', name=op.f('uq_payments_stripe_payment_intent_id'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_status'), ['status'], unique=False)

    op.create_table('voucher_redemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('discount_pence', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_voucher_redemptions_booking_id_bookings')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_voucher_redemptions_voucher_id_vouchers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_redemptions')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_voucher_redemptions_booking_id'))
    )
    with op.batch_alter_table('voucher_redemptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_redemptions_voucher_id'), ['voucher_id'], unique=False)

    op.create_table('payment_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('mismatch', 'late_payment_confirmed', 'late_payment_refunded', 'refund_failed', name='flag_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_payment_flags_booking_id_bookings')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_flags_payment_id_payments')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_payment_flags_resolved_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_flags'))
    )
    with op.batch_alter_table('payment_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_flags_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_flags_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_flags_payment_id'), ['payment_id'], unique=False)

    op.create_table('refunds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'succeeded', 'failed', name='refund_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('stripe_refund_id', sa.String(length=255), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('failure_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_refunds_payment_id_payments')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_refunds_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_refunds_idempotency_key')),
    sa.UniqueConstraint('stripe_refund_id', name=op.f('uq_refunds_stripe_refund_id'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refunds_payment_id'), ['payment_id'], unique=False)

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discount_pence', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('amount_refunded_pence', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint('discount_not_negative', 'discount_pence >= 0')
        batch_op.create_check_constraint('refunded_not_negative', 'amount_refunded_pence >= 0')
        # Card and funded places join the ways a booking can be paid.
        batch_op.drop_constraint(op.f('ck_bookings_payment_method'), type_='check')
        batch_op.create_check_constraint('payment_method', PAYMENT_METHOD_CHECK.format(NEW_METHODS))

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sibling_discount_percent', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint('sibling_discount_in_range', 'sibling_discount_percent BETWEEN 0 AND 100')

    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allow_instructor_refunds', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_column('allow_instructor_refunds')

    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_courses_sibling_discount_in_range'), type_='check')
        batch_op.drop_column('sibling_discount_percent')

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_bookings_payment_method'), type_='check')
        batch_op.create_check_constraint('payment_method', PAYMENT_METHOD_CHECK.format(OLD_METHODS))
        batch_op.drop_constraint(op.f('ck_bookings_discount_not_negative'), type_='check')
        batch_op.drop_constraint(op.f('ck_bookings_refunded_not_negative'), type_='check')
        batch_op.drop_column('amount_refunded_pence')
        batch_op.drop_column('discount_pence')

    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refunds_payment_id'))

    op.drop_table('refunds')
    with op.batch_alter_table('payment_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_flags_payment_id'))
        batch_op.drop_index(batch_op.f('ix_payment_flags_kind'))
        batch_op.drop_index(batch_op.f('ix_payment_flags_booking_id'))

    op.drop_table('payment_flags')
    with op.batch_alter_table('voucher_redemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_redemptions_voucher_id'))

    op.drop_table('voucher_redemptions')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_status'))
        batch_op.drop_index(batch_op.f('ix_payments_booking_id'))

    op.drop_table('payments')
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vouchers_course_id'))

    op.drop_table('vouchers')
    op.drop_table('stripe_events')
