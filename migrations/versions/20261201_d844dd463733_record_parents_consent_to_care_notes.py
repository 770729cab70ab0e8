"""Record parents' consent to care notes

Revision ID: d844dd463733
Revises: e5a1c9b7f203
Create Date: 2026-12-01 15:27:09.211412

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd844dd463733'
down_revision = 'e5a1c9b7f203'
branch_labels = None
depends_on = None


def upgrade():
    # Notes kept before consent was recorded stay, with none recorded: the parent is asked to agree when next saving them.
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('care_notes_consent_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('care_notes_consent_version', sa.String(length=20), nullable=True))



def downgrade():
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_column('care_notes_consent_version')
        batch_op.drop_column('care_notes_consent_at')

