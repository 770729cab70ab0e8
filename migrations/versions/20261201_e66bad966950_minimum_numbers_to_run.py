"""Minimum numbers to run

Revision ID: e66bad966950
Revises: d0a50a99cbfb
Create Date: 2026-12-01 18:54:55.707266

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e66bad966950'
down_revision = 'd0a50a99cbfb'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_places', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decision_days', sa.Integer(), server_default='3', nullable=False))
        batch_op.add_column(sa.Column('run_anyway_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('minimum_warned_at', sa.DateTime(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_courses_minimum_in_range'), 'min_places IS NULL OR (min_places > 0 AND min_places <= places)')
        batch_op.create_check_constraint(op.f('ck_courses_decision_days_not_negative'), 'decision_days >= 0')



def downgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_courses_decision_days_not_negative'), type_='check')
        batch_op.drop_constraint(op.f('ck_courses_minimum_in_range'), type_='check')
        batch_op.drop_column('minimum_warned_at')
        batch_op.drop_column('run_anyway_at')
        batch_op.drop_column('decision_days')
        batch_op.drop_column('min_places')

