"""SLA reports: index of targets by metric and the instant they were decided

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 04:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_sla_target_metric_decided_at', 'sla_target',
                    ['metric', sa.text('(CASE WHEN breached THEN breached_at ELSE achieved_at END)')])


def downgrade():
    op.drop_index('ix_sla_target_metric_decided_at', table_name='sla_target')
