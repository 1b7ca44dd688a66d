"""agent session tokens, folded buyer search text, order discount

Revision ID: 0002
Revises: 0001
"""
import secrets
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _search_key(text):
    # A frozen copy of helpdesk.text.search_key as of this revision: migrations must not
    # change meaning when the application code changes later.
    kept, base = [], ""
    for ch in unicodedata.normalize("NFKD", text or ""):
        if unicodedata.combining(ch):
            if unicodedata.name(base, "").startswith(("LATIN", "GREEK", "CYRILLIC")):
                continue
        else:
            base = ch
        kept.append(ch)
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).casefold().split())


def upgrade():
    with op.batch_alter_table("agent") as batch:
        batch.add_column(sa.Column("session_token", sa.String(64), nullable=True))
    with op.batch_alter_table("customer") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=True))
    with op.batch_alter_table("order") as batch:
        batch.add_column(sa.Column("discount", sa.BigInteger(), nullable=False, server_default="0"))

    conn = op.get_bind()
    agent = sa.table("agent", sa.column("id", sa.Integer), sa.column("session_token", sa.String))
    for (agent_id,) in conn.execute(sa.select(agent.c.id)).all():
        conn.execute(agent.update().where(agent.c.id == agent_id).values(session_token=secrets.token_hex(16)))
    customer = sa.table("customer", sa.column("id", sa.Integer), sa.column("name", sa.String),
                        sa.column("email", sa.String), sa.column("search_text", sa.Text))
    for customer_id, name, email in conn.execute(sa.select(customer.c.id, customer.c.name, customer.c.email)).all():
        conn.execute(customer.update().where(customer.c.id == customer_id)
                     .values(search_text=_search_key(f"{name} {email or ''}")))

    with op.batch_alter_table("agent") as batch:
        batch.alter_column("session_token", existing_type=sa.String(64), nullable=False)
    with op.batch_alter_table("customer") as batch:
        batch.alter_column("search_text", existing_type=sa.Text(), nullable=False)


def downgrade():
    with op.batch_alter_table("order") as batch:
        batch.drop_column("discount")
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("search_text")
    with op.batch_alter_table("agent") as batch:
        batch.drop_column("session_token")
