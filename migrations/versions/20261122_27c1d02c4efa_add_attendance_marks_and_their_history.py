"""Add attendance marks and their history

Revision ID: 27c1d02c4efa
Revises: f6fb8b3d4c78
Create Date: 2026-11-22 06:15:20.139315

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '27c1d02c4efa'
down_revision = 'f6fb8b3d4c78'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attendance_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('place_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('present', 'observing', 'late', 'absent_unwell', 'absent_immunised', 'absent_other', name='attendance_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('marked_by_id', sa.Integer(), nullable=True),
    sa.Column('marked_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'], name=op.f('fk_attendance_marks_marked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['place_id'], ['booking_places.id'], name=op.f('fk_attendance_marks_place_id_booking_places'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['course_sessions.id'], name=op.f('fk_attendance_marks_session_id_course_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_marks')),
    sa.UniqueConstraint('place_id', 'session_id', name=op.f('uq_attendance_marks_place_id'))
    )
    with op.batch_alter_table('attendance_marks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_marks_session_id'), ['session_id'], unique=False)

    op.create_table('attendance_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mark_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.Enum('present', 'observing', 'late', 'absent_unwell', 'absent_immunised', 'absent_other', name='attendance_from_status', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('to_status', sa.Enum('present', 'observing', 'late', 'absent_unwell', 'absent_immunised', 'absent_other', name='attendance_to_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('from_note', sa.String(length=500), nullable=False),
    sa.Column('to_note', sa.String(length=500), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_attendance_changes_changed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mark_id'], ['attendance_marks.id'], name=op.f('fk_attendance_changes_mark_id_attendance_marks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_changes'))
    )
    with op.batch_alter_table('attendance_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_changes_mark_id'), ['mark_id'], unique=False)

def downgrade():
    with op.batch_alter_table('attendance_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_changes_mark_id'))

    op.drop_table('attendance_changes')
    with op.batch_alter_table('attendance_marks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_marks_session_id'))
    op.drop_table('attendance_marks')
