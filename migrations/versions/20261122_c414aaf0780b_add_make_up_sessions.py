"""Add make-up sessions

Revision ID: c414aaf0780b
Revises: 0c9f8a3d622c
Create Date: 2026-11-22 07:08:47.106850

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c414aaf0780b'
down_revision = '0c9f8a3d622c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('makeups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.Column('missed_session_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('offered', 'accepted', 'declined', 'withdrawn', 'cancelled', name='makeup_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('offered_by_id', sa.Integer(), nullable=True),
    sa.Column('offered_at', sa.DateTime(), nullable=False),
    sa.Column('responded_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['missed_session_id'], ['course_sessions.id'], name=op.f('fk_makeups_missed_session_id_course_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offered_by_id'], ['users.id'], name=op.f('fk_makeups_offered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['place_id'], ['booking_places.id'], name=op.f('fk_makeups_place_id_booking_places'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['course_sessions.id'], name=op.f('fk_makeups_session_id_course_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_makeups'))
    )
    with op.batch_alter_table('makeups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_makeups_missed_session_id'), ['missed_session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_makeups_place_id'), ['place_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_makeups_session_id'), ['session_id'], unique=False)
        batch_op.create_index('uq_makeups_live_missed_session', ['place_id', 'missed_session_id'], unique=True, sqlite_where=sa.text("status IN ('offered', 'accepted')"), postgresql_where=sa.text("status IN ('offered', 'accepted')"))


def downgrade():
    with op.batch_alter_table('makeups', schema=None) as batch_op:
        batch_op.drop_index('uq_makeups_live_missed_session', sqlite_where=sa.text("status IN ('offered', 'accepted')"), postgresql_where=sa.text("status IN ('offered', 'accepted')"))
        batch_op.drop_index(batch_op.f('ix_makeups_session_id'))
        batch_op.drop_index(batch_op.f('ix_makeups_place_id'))
        batch_op.drop_index(batch_op.f('ix_makeups_missed_session_id'))

    op.drop_table('makeups')
