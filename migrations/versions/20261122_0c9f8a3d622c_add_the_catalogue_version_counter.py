"""Add the catalogue version counter that public page caching is keyed on

Revision ID: 0c9f8a3d622c
Revises: 27c1d02c4efa
Create Date: 2026-11-22 07:08:20.497968

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0c9f8a3d622c'
down_revision = '27c1d02c4efa'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('catalogue_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_versions'))
    )
    # The one row every commit that changes the catalogue bumps.
    op.bulk_insert(table, [{'id': 1, 'version': 0}])


def downgrade():
    op.drop_table('catalogue_versions')
