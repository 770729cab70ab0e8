"""The organisation's postal address, for receipts and the foot of emails

Revision ID: 9a93ab13e0e1
Revises: e66bad966950
Create Date: 2026-12-01 20:23:36.141539

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "9a93ab13e0e1"
down_revision = "e66bad966950"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("postal_address", sa.Text(), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("postal_address")
