"""faq: articles, language versions, index state

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 00:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('faq_article',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('view_count', sa.Integer(), nullable=False),
    sa.Column('helpful_count', sa.Integer(), nullable=False),
    sa.Column('not_helpful_count', sa.Integer(), nullable=False),
    sa.Column('deflection_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_article')),
    sa.UniqueConstraint('slug', name=op.f('uq_faq_article_slug'))
    )
    op.create_table('faq_article_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('lang', sa.String(length=35), nullable=False),
    sa.Column('question', sa.String(length=300), nullable=False),
    sa.Column('phrasings', sa.JSON(), nullable=False),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('machine_translated', sa.Boolean(), nullable=False),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['faq_article.id'], name=op.f('fk_faq_article_version_article_id_faq_article'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_article_version')),
    sa.UniqueConstraint('article_id', 'lang', name=op.f('uq_faq_article_version_article_id_lang'))
    )
    with op.batch_alter_table('faq_article_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_faq_article_version_article_id'), ['article_id'], unique=False)

    state = op.create_table('faq_index_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_faq_index_state'))
    )
    op.bulk_insert(state, [{'id': 1, 'token': 'initial'}])


def downgrade():
    op.drop_table('faq_index_state')
    with op.batch_alter_table('faq_article_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_faq_article_version_article_id'))

    op.drop_table('faq_article_version')
    op.drop_table('faq_article')
