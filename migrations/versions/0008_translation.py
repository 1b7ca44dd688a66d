"""machine translation: message translations, translation cache

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 00:01:01

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('translation_cache',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=35), nullable=False),
    sa.Column('target', sa.String(length=35), nullable=False),
    sa.Column('engine', sa.String(length=40), nullable=False),
    sa.Column('engine_version', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_cache')),
    sa.UniqueConstraint('text_hash', 'source', 'target', 'engine', 'engine_version', name=op.f('uq_translation_cache_text_hash_source_target_engine_engine_version'))
    )
    op.create_table('message_translation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('lang', sa.String(length=35), nullable=False),
    sa.Column('source_lang', sa.String(length=35), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('engine', sa.String(length=40), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_message_translation_message_id_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_translation')),
    sa.UniqueConstraint('message_id', 'lang', name=op.f('uq_message_translation_message_id_lang'))
    )
    with op.batch_alter_table('message_translation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_translation_message_id'), ['message_id'], unique=False)



def downgrade():
    with op.batch_alter_table('message_translation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_translation_message_id'))

    op.drop_table('message_translation')
    op.drop_table('translation_cache')
