"""Store each card payment's Checkout idempotency key

Revision ID: 49182a53a3ed
Revises: 8384d87cf2b9
Create Date: 2026-12-01 13:45:33.314815

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '49182a53a3ed'
down_revision = '8384d87cf2b9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkout_key', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_payments_checkout_key'), ['checkout_key'])


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_payments_checkout_key'), type_='unique')
        batch_op.drop_column('checkout_key')
