"""csat surveys, follow-ups, report indexes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 02:43:41

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('buyer_name', sa.String(length=300), nullable=False),
    sa.Column('buyer_key', sa.String(length=300), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('ticket_type', sa.String(length=20), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('marketplace', sa.String(length=20), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('send_claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminder_claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminder_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('asks_nps', sa.Boolean(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=20), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('nps', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_survey_agent_id_agent')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_survey_conversation_id_conversation')),
    sa.ForeignKeyConstraint(['store_id'], ['store.id'], name=op.f('fk_survey_store_id_store')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_survey_team_id_team')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_survey_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey')),
    sa.UniqueConstraint('conversation_id', name=op.f('uq_survey_conversation_id')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_survey_ticket_id'))
    )
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index('ix_survey_answered_at', ['answered_at'], unique=False)
        batch_op.create_index('ix_survey_buyer_key', ['buyer_key'], unique=False)
        batch_op.create_index('ix_survey_due_at', ['due_at'], unique=False)
        batch_op.create_index('ix_survey_sent_at', ['sent_at'], unique=False)

    op.create_table('survey_follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('translated', sa.Text(), nullable=True),
    sa.Column('translation_note', sa.String(length=300), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['done_by_id'], ['agent.id'], name=op.f('fk_survey_follow_up_done_by_id_agent')),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_follow_up_survey_id_survey')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_survey_follow_up_team_id_team')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_survey_follow_up_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_follow_up')),
    sa.UniqueConstraint('survey_id', name=op.f('uq_survey_follow_up_survey_id'))
    )
    with op.batch_alter_table('survey_follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_follow_up_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('excluded_as', sa.String(length=10), nullable=True))
        batch_op.create_index('ix_ticket_created_at', ['created_at'], unique=False)

    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_event_kind_created_at', ['kind', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('ticket_event', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_event_kind_created_at')

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_created_at')
        batch_op.drop_column('excluded_as')

    with op.batch_alter_table('survey_follow_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_follow_up_ticket_id'))

    op.drop_table('survey_follow_up')
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_sent_at')
        batch_op.drop_index('ix_survey_due_at')
        batch_op.drop_index('ix_survey_buyer_key')
        batch_op.drop_index('ix_survey_answered_at')
        batch_op.drop_index(batch_op.f('ix_survey_agent_id'))

    op.drop_table('survey')
