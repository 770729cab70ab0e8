"""Instructor credentials and course evaluations

Revision ID: 1028c0619efb
Revises: 7afe1d9f8011
Create Date: 2026-12-01 20:34:25.677631

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1028c0619efb'
down_revision = "7afe1d9f8011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('evaluation_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['replaces_id'], ['evaluation_questions.id'], name=op.f('fk_evaluation_questions_replaces_id_evaluation_questions'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_questions'))
    )
    op.create_table('instructor_credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instructor_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('cimi', 'insurance', 'dbs', 'first_aid', name='credential_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('reference', sa.String(length=60), nullable=False),
    sa.Column('provider', sa.String(length=120), nullable=False),
    sa.Column('document_file_id', sa.Integer(), nullable=True),
    sa.Column('alerted_for', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('expires_on IS NULL OR issued_on IS NULL OR expires_on > issued_on', name=op.f('ck_instructor_credentials_expires_after_issue')),
    sa.ForeignKeyConstraint(['document_file_id'], ['stored_files.id'], name=op.f('fk_instructor_credentials_document_file_id_stored_files'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['instructor_id'], ['users.id'], name=op.f('fk_instructor_credentials_instructor_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instructor_credentials')),
    sa.UniqueConstraint('instructor_id', 'kind', name=op.f('uq_instructor_credentials_instructor_id'))
    )
    with op.batch_alter_table('instructor_credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instructor_credentials_expires_on'), ['expires_on'], unique=False)

    op.create_table('evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('may_quote', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_evaluations_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_evaluations_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluations')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_evaluations_booking_id'))
    )
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluations_course_id'), ['course_id'], unique=False)

    op.create_table('evaluation_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_evaluation_answers_score_in_range')),
    sa.ForeignKeyConstraint(['evaluation_id'], ['evaluations.id'], name=op.f('fk_evaluation_answers_evaluation_id_evaluations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['evaluation_questions.id'], name=op.f('fk_evaluation_answers_question_id_evaluation_questions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_answers')),
    sa.UniqueConstraint('evaluation_id', 'question_id', name=op.f('uq_evaluation_answers_evaluation_id'))
    )
    with op.batch_alter_table('evaluation_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_answers_question_id'), ['question_id'], unique=False)


def downgrade():
    with op.batch_alter_table('evaluation_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_answers_question_id'))

    op.drop_table('evaluation_answers')
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluations_course_id'))

    op.drop_table('evaluations')
    with op.batch_alter_table('instructor_credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instructor_credentials_expires_on'))

    op.drop_table('instructor_credentials')
    op.drop_table('evaluation_questions')
