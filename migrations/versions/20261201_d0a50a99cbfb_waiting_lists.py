"""Waiting lists

Revision ID: d0a50a99cbfb
Revises: 454e3dd1d3f3
Create Date: 2026-12-01 17:59:12.605111

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd0a50a99cbfb'
down_revision = '454e3dd1d3f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('waitlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'offered', 'booked', 'declined', 'lapsed', 'left', 'removed', 'closed', name='waitlist_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('queued_at', sa.DateTime(), nullable=False),
    sa.Column('offered_at', sa.DateTime(), nullable=True),
    sa.Column('offer_expires_at', sa.DateTime(), nullable=True),
    sa.Column('offers_made', sa.Integer(), nullable=False),
    sa.Column('closed_reason', sa.String(length=300), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status != 'offered' OR offer_expires_at IS NOT NULL", name=op.f('ck_waitlist_entries_offer_has_expiry')),
    sa.CheckConstraint('places > 0', name=op.f('ck_waitlist_entries_places_positive')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_waitlist_entries_booking_id_bookings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_waitlist_entries_course_id_courses')),
    sa.ForeignKeyConstraint(['parent_id'], ['users.id'], name=op.f('fk_waitlist_entries_parent_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entries'))
    )
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlist_entries_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_entries_offer_expires_at'), ['offer_expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_entries_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_entries_queued_at'), ['queued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_waitlist_entries_status'), ['status'], unique=False)
        batch_op.create_index('uq_waitlist_entries_open_parent', ['course_id', 'parent_id'], unique=True, sqlite_where=sa.text("status IN ('waiting', 'offered')"), postgresql_where=sa.text("status IN ('waiting', 'offered')"))

    op.create_table('waitlist_children',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_waitlist_children_child_id_children'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['waitlist_entries.id'], name=op.f('fk_waitlist_children_entry_id_waitlist_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'child_id', name=op.f('pk_waitlist_children'))
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waitlist_offer_hours', sa.Integer(), server_default='24', nullable=False))
        batch_op.create_check_constraint(op.f('ck_organisations_offer_hours_positive'), 'waitlist_offer_hours > 0')



def downgrade():
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_organisations_offer_hours_positive'), type_='check')
        batch_op.drop_column('waitlist_offer_hours')

    op.drop_table('waitlist_children')
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.drop_index('uq_waitlist_entries_open_parent', sqlite_where=sa.text("status IN ('waiting', 'offered')"), postgresql_where=sa.text("status IN ('waiting', 'offered')"))
        batch_op.drop_index(batch_op.f('ix_waitlist_entries_status'))
        batch_op.drop_index(batch_op.f('ix_waitlist_entries_queued_at'))
        batch_op.drop_index(batch_op.f('ix_waitlist_entries_parent_id'))
        batch_op.drop_index(batch_op.f('ix_waitlist_entries_offer_expires_at'))
        batch_op.drop_index(batch_op.f('ix_waitlist_entries_course_id'))

    op.drop_table('waitlist_entries')
