"""FAQ: votes once per session, category names per language, the index's change log (in
place of the single token); translations of ticket messages

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 03:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('faq_index_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_index_change'))
    )
    op.drop_table('faq_index_state')
    op.create_table('faq_vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('voter', sa.String(length=64), nullable=False),
    sa.Column('helpful', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['faq_article.id'], name=op.f('fk_faq_vote_article_id_faq_article'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_vote')),
    sa.UniqueConstraint('article_id', 'voter', name=op.f('uq_faq_vote_article_id_voter'))
    )
    with op.batch_alter_table('faq_vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faq_vote_article_id'), ['article_id'], unique=False)
    op.create_table('faq_category_name',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=False),
    sa.Column('lang', sa.String(length=35), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_category_name')),
    sa.UniqueConstraint('category', 'lang', name=op.f('uq_faq_category_name_category_lang'))
    )
    op.create_table('ticket_event_translation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('lang', sa.String(length=35), nullable=False),
    sa.Column('source_lang', sa.String(length=35), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('engine', sa.String(length=40), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['ticket_event.id'], name=op.f('fk_ticket_event_translation_event_id_ticket_event')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_event_translation')),
    sa.UniqueConstraint('event_id', 'lang', name=op.f('uq_ticket_event_translation_event_id_lang'))
    )
    with op.batch_alter_table('ticket_event_translation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ticket_event_translation_event_id'), ['event_id'], unique=False)


def downgrade():
    with op.batch_alter_table('ticket_event_translation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_event_translation_event_id'))
    op.drop_table('ticket_event_translation')
    op.drop_table('faq_category_name')
    with op.batch_alter_table('faq_vote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faq_vote_article_id'))
    op.drop_table('faq_vote')
    state = op.create_table('faq_index_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_index_state'))
    )
    op.bulk_insert(state, [{'id': 1, 'token': 'initial'}])
    op.drop_table('faq_index_change')
