"""Keep a removed child's initial on their places

Revision ID: a4b9e6d2c815
Revises: 7d3f0c8e1a62
Create Date: 2026-12-01 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4b9e6d2c815'
down_revision = '7d3f0c8e1a62'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking_places', schema=None) as batch_op:
        batch_op.add_column(sa.Column('child_initial', sa.String(length=4), nullable=True))


def downgrade():
    with op.batch_alter_table('booking_places', schema=None) as batch_op:
        batch_op.drop_column('child_initial')
