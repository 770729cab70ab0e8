"""Messages to a group of families

Revision ID: 794fed59945a
Revises: 1028c0619efb
Create Date: 2026-12-01 20:26:44.958892

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '794fed59945a'
down_revision = "1028c0619efb"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('group_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('sender_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('reply_to', sa.String(length=254), nullable=False),
    sa.Column('send_key', sa.String(length=32), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("body != ''", name=op.f('ck_group_messages_body_not_empty')),
    sa.CheckConstraint("subject != ''", name=op.f('ck_group_messages_subject_not_empty')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_group_messages_course_id_courses')),
    sa.ForeignKeyConstraint(['sender_id'], ['users.id'], name=op.f('fk_group_messages_sender_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['course_sessions.id'], name=op.f('fk_group_messages_session_id_course_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_messages')),
    sa.UniqueConstraint('send_key', name=op.f('uq_group_messages_send_key'))
    )
    with op.batch_alter_table('group_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_messages_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_messages_sender_id'), ['sender_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_messages_sent_at'), ['sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_messages_session_id'), ['session_id'], unique=False)

    op.create_table('group_message_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=False),
    sa.Column('outbox_email_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['group_messages.id'], name=op.f('fk_group_message_recipients_message_id_group_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['outbox_email_id'], ['outbox_emails.id'], name=op.f('fk_group_message_recipients_outbox_email_id_outbox_emails'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['users.id'], name=op.f('fk_group_message_recipients_parent_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_message_recipients')),
    sa.UniqueConstraint('message_id', 'parent_id', name=op.f('uq_group_message_recipients_message_id'))
    )
    with op.batch_alter_table('group_message_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_message_recipients_outbox_email_id'), ['outbox_email_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_message_recipients_parent_id'), ['parent_id'], unique=False)

    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_to', sa.String(length=254), nullable=True))



def downgrade():
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_column('reply_to')

    with op.batch_alter_table('group_message_recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_message_recipients_parent_id'))
        batch_op.drop_index(batch_op.f('ix_group_message_recipients_outbox_email_id'))

    op.drop_table('group_message_recipients')
    with op.batch_alter_table('group_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_messages_session_id'))
        batch_op.drop_index(batch_op.f('ix_group_messages_sent_at'))
        batch_op.drop_index(batch_op.f('ix_group_messages_sender_id'))
        batch_op.drop_index(batch_op.f('ix_group_messages_course_id'))

    op.drop_table('group_messages')
