"""Add instructors' photos

Revision ID: 8384d87cf2b9
Revises: 0cf6cf250e54
Create Date: 2026-11-22 07:49:30.135244

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8384d87cf2b9'
down_revision = '0cf6cf250e54'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('instructor_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo_file_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_instructor_profiles_photo_file_id_stored_files'), 'stored_files', ['photo_file_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('instructor_profiles', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_instructor_profiles_photo_file_id_stored_files'), type_='foreignkey')
        batch_op.drop_column('photo_file_id')
