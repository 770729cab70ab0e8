"""Record the queue worker's heartbeat

Revision ID: 7d3f0c8e1a62
Revises: 5c1e7a2b9d40
Create Date: 2026-12-01 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d3f0c8e1a62'
down_revision = '5c1e7a2b9d40'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('queue_heartbeats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('beat_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_heartbeats'))
    )


def downgrade():
    op.drop_table('queue_heartbeats')
