"""Add handouts and the stored files behind them

Revision ID: 0cf6cf250e54
Revises: c414aaf0780b
Create Date: 2026-11-22 07:09:03.663210

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0cf6cf250e54'
down_revision = 'c414aaf0780b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('size > 0', name=op.f('ck_stored_files_size_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_files')),
    sa.UniqueConstraint('key', name=op.f('uq_stored_files_key')),
    sa.UniqueConstraint('sha256', name=op.f('uq_stored_files_sha256'))
    )
    op.create_table('handouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('stored_file_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('original_filename', sa.String(length=255), nullable=False),
    sa.Column('release_rule', sa.Enum('on_booking', 'session_start', 'after_course', name='release_rule', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('release_session_id', sa.Integer(), nullable=True),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.Column('download_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("release_rule != 'session_start' OR release_session_id IS NOT NULL", name=op.f('ck_handouts_session_rule_has_session')),
    sa.CheckConstraint('course_id IS NOT NULL OR (session_id IS NULL AND release_session_id IS NULL)', name=op.f('ck_handouts_library_has_no_sessions')),
    sa.CheckConstraint('download_count >= 0', name=op.f('ck_handouts_download_count_not_negative')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_handouts_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['release_session_id'], ['course_sessions.id'], name=op.f('fk_handouts_release_session_id_course_sessions')),
    sa.ForeignKeyConstraint(['session_id'], ['course_sessions.id'], name=op.f('fk_handouts_session_id_course_sessions')),
    sa.ForeignKeyConstraint(['source_id'], ['handouts.id'], name=op.f('fk_handouts_source_id_handouts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stored_file_id'], ['stored_files.id'], name=op.f('fk_handouts_stored_file_id_stored_files')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_handouts_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handouts'))
    )
    with op.batch_alter_table('handouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_handouts_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handouts_source_id'), ['source_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_handouts_stored_file_id'), ['stored_file_id'], unique=False)


def downgrade():
    with op.batch_alter_table('handouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handouts_stored_file_id'))
        batch_op.drop_index(batch_op.f('ix_handouts_source_id'))
        batch_op.drop_index(batch_op.f('ix_handouts_course_id'))

    op.drop_table('handouts')
    op.drop_table('stored_files')
