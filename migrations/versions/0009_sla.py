"""sla calendars, policies, targets; customer tier

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 02:45:28

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sla_calendar',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('hours', sa.JSON(), nullable=False),
    sa.Column('holiday_country', sa.String(length=2), nullable=True),
    sa.Column('holiday_subdivision', sa.String(length=10), nullable=True),
    sa.Column('custom_holidays', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_calendar')),
    sa.UniqueConstraint('name', name=op.f('uq_sla_calendar_name'))
    )
    op.create_table('sla_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('types', sa.JSON(), nullable=False),
    sa.Column('priorities', sa.JSON(), nullable=False),
    sa.Column('store_ids', sa.JSON(), nullable=False),
    sa.Column('marketplaces', sa.JSON(), nullable=False),
    sa.Column('countries', sa.JSON(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('tiers', sa.JSON(), nullable=False),
    sa.Column('first_response_seconds', sa.Integer(), nullable=True),
    sa.Column('next_response_seconds', sa.Integer(), nullable=True),
    sa.Column('periodic_update_seconds', sa.Integer(), nullable=True),
    sa.Column('resolution_seconds', sa.Integer(), nullable=True),
    sa.Column('business', sa.Boolean(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=True),
    sa.Column('warn_ratio', sa.Float(), nullable=False),
    sa.Column('pause_on_hold', sa.Boolean(), nullable=False),
    sa.Column('fresh_resolution_on_reopen', sa.Boolean(), nullable=False),
    sa.Column('escalate_raise_priority', sa.Boolean(), nullable=False),
    sa.Column('escalate_to_agent_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['calendar_id'], ['sla_calendar.id'], name=op.f('fk_sla_policy_calendar_id_sla_calendar')),
    sa.ForeignKeyConstraint(['escalate_to_agent_id'], ['agent.id'], name=op.f('fk_sla_policy_escalate_to_agent_id_agent')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_policy')),
    sa.UniqueConstraint('name', name=op.f('uq_sla_policy_name'))
    )
    op.create_table('sla_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=True),
    sa.Column('metric', sa.String(length=20), nullable=False),
    sa.Column('cycle', sa.Integer(), nullable=False),
    sa.Column('business', sa.Boolean(), nullable=False),
    sa.Column('calendar_id', sa.Integer(), nullable=True),
    sa.Column('target_seconds', sa.Integer(), nullable=False),
    sa.Column('warn_seconds', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('warn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_seconds', sa.Integer(), nullable=False),
    sa.Column('achieved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('elapsed_seconds', sa.Integer(), nullable=True),
    sa.Column('breached', sa.Boolean(), nullable=False),
    sa.Column('breached_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('breach_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['calendar_id'], ['sla_calendar.id'], name=op.f('fk_sla_target_calendar_id_sla_calendar')),
    sa.ForeignKeyConstraint(['policy_id'], ['sla_policy.id'], name=op.f('fk_sla_target_policy_id_sla_policy')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_sla_target_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_target')),
    sa.UniqueConstraint('ticket_id', 'metric', 'cycle', name=op.f('uq_sla_target_ticket_id_metric_cycle'))
    )
    with op.batch_alter_table('sla_target', schema=None) as batch_op:
        batch_op.create_index('ix_sla_target_state_due_at', ['state', 'due_at'], unique=False)
        batch_op.create_index('ix_sla_target_state_warn_at', ['state', 'warn_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sla_target_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tier', sa.String(length=20), nullable=True))



def downgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('tier')

    with op.batch_alter_table('sla_target', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_target_ticket_id'))
        batch_op.drop_index('ix_sla_target_state_warn_at')
        batch_op.drop_index('ix_sla_target_state_due_at')

    op.drop_table('sla_target')
    op.drop_table('sla_policy')
    op.drop_table('sla_calendar')
